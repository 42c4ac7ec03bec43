import type { TelemetryRecord } from '@fleetwire/protocol';
import type { SqlClient } from '@fleetwire/store';
import type { MemoryTelemetryLog } from '@fleetwire/telemetry-log';

import type { LogIngest } from './log-ingest.js';

/**
 * The embedded mode's telemetry sink: a record is appended to the in-process log and the append
 * resolves only once the ingest pipeline committed past its offset, which it does only after the
 * record is in PGlite (or dead-lettered). So an ack to a device means what it means in a cluster —
 * the record is on disk — and a crash loses nothing that was acked.
 */
export class StoredTelemetrySink {
  constructor(
    private readonly log: MemoryTelemetryLog,
    private readonly ingest: Pick<LogIngest, 'stored'> & Partial<Pick<LogIngest, 'readiness'>>,
    private readonly store?: Pick<SqlClient, 'healthy'>,
  ) {}

  /**
   * In one process the store is part of this node's job (there is no other node to go to), so its
   * state is a readiness check of the edge, not only a reported dependency.
   */
  readonly gatesReadiness = true;

  /**
   * The edge's readiness check `telemetryLog`: false while records would not be stored soon (the
   * writer is stuck, PGlite is broken), so the node takes no new devices meanwhile.
   */
  get ready(): boolean {
    return this.notReadyBecause === undefined;
  }

  /** Why `ready` is false ("writer stuck for 42 s"), or undefined when it is true. */
  get notReadyBecause(): string | undefined {
    if (!this.log.ready) return 'telemetry log not ready';
    if (this.store?.healthy === false) return 'the embedded database crashed and was not reopened';
    const ingest = this.ingest.readiness?.();
    return ingest && !ingest.ready ? ingest.reason : undefined;
  }

  async append(record: TelemetryRecord): Promise<void> {
    const offset = this.log.length;
    await this.log.append(record);
    await this.ingest.stored(offset);
  }

  /**
   * Resolves once everything appended so far is in PGlite, or the ingest gave up on it (a
   * shutdown past its deadline: those appends failed, so none of them was acked).
   */
  flush(): Promise<void> {
    const last = this.log.length - 1;
    return last < 0 ? Promise.resolve() : this.ingest.stored(last).catch(() => undefined);
  }
}

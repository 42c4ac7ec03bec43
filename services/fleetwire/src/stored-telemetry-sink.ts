import type { TelemetryRecord } from '@fleetwire/protocol';
import type { MemoryTelemetryLog } from '@fleetwire/telemetry-log';

import type { LogIngest } from './log-ingest.js';

/**
 * The embedded mode's telemetry sink: a record is appended to the in-process log and the append
 * resolves only once the ingest loop wrote it to PGlite. So an ack to a device means what it
 * means in a cluster — the record is on disk — and a crash loses nothing that was acked.
 */
export class StoredTelemetrySink {
  constructor(
    private readonly log: MemoryTelemetryLog,
    private readonly ingest: Pick<LogIngest, 'stored'>,
  ) {}

  get ready(): boolean {
    return this.log.ready;
  }

  async append(record: TelemetryRecord): Promise<void> {
    const offset = this.log.length;
    await this.log.append(record);
    await this.ingest.stored(offset);
  }

  /** Resolves once everything appended so far is in PGlite. */
  flush(): Promise<void> {
    const last = this.log.length - 1;
    return last < 0 ? Promise.resolve() : this.ingest.stored(last);
  }
}

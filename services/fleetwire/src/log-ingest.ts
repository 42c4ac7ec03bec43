import {
  IngestPipeline,
  type DeadLetterSink,
  type IngestMetrics,
  type IngestPipelineDeps,
} from '@fleetwire/ingest';
import { MemoryLogReader, type MemoryTelemetryLog } from '@fleetwire/telemetry-log';
import type { Logger } from 'pino';

export interface LogIngestOptions {
  log: MemoryTelemetryLog;
  /** The ingest worker's BatchWriter (tests pass stand-ins with `write` only). */
  writer: IngestPipelineDeps['writer'];
  dlq: DeadLetterSink;
  metrics: IngestMetrics;
  logger: Logger;
  maxRows: number;
  maxRecordBytes: number;
  maxFutureSkewMs: number;
  retentionDays: number;
  /**
   * Dead letters still unwritten (the file failing: disk full, permissions) after this long make
   * the ingest not ready, as a stuck writer does (FLEETWIRE_WRITE_STUCK_AFTER_MS). Default 30 s.
   */
  stuckAfterMs?: number;
  /** Repeated dead-letter failures are logged at most once per this interval. Default 10 s. */
  failureLogIntervalMs?: number;
}

/** The `topic` a dead letter names as its source: the in-process log has one partition. */
export const EMBEDDED_LOG_TOPIC = 'embedded-telemetry-log';

/**
 * One partition and one batch in hand: its rows are written as soon as they are submitted (the
 * Batcher writes when every announced batch has submitted); this only bounds one that never is.
 */
const BATCH_MAX_WAIT_MS = 200;

/**
 * The embedded ingest: the ingest worker's own `IngestPipeline` (checks, dead letters, batches
 * through the BatchWriter, commit only after the write) over a `MemoryLogReader` of the
 * in-process log instead of a Kafka consumer. A batch is whatever piled up during the previous
 * one, so batches grow with load and a quiet system writes each record at once.
 */
export class LogIngest {
  private readonly reader: MemoryLogReader;
  private readonly pipeline: IngestPipeline;
  private started = false;
  private aborted = false;

  constructor(private readonly options: LogIngestOptions) {
    this.reader = new MemoryLogReader(options.log, {
      topic: EMBEDDED_LOG_TOPIC,
      maxBatch: options.maxRows,
    });
    this.pipeline = new IngestPipeline({
      reader: this.reader,
      writer: options.writer,
      deadLetters: options.dlq,
      metrics: options.metrics,
      logger: options.logger,
      policy: {
        maxRecordBytes: options.maxRecordBytes,
        maxFutureSkewMs: options.maxFutureSkewMs,
        retentionDays: options.retentionDays,
      },
      maxRows: options.maxRows,
      maxWaitMs: BATCH_MAX_WAIT_MS,
      ...(options.stuckAfterMs === undefined ? {} : { stuckAfterMs: options.stuckAfterMs }),
      ...(options.failureLogIntervalMs === undefined
        ? {}
        : { failureLogIntervalMs: options.failureLogIntervalMs }),
    });
  }

  /** Records written to the store (or dead-lettered) so far: the log offset reached. */
  get position(): number {
    return this.reader.position;
  }

  /**
   * Ready unless the ingest was aborted, the writer is stuck (a write in hand longer than its
   * bound) or the dead-letter file has been failing for as long; `reason` says which.
   */
  readiness(): { ready: boolean; reason?: string } {
    if (this.aborted) return { ready: false, reason: 'ingest stopped' };
    const state = this.pipeline.readiness();
    if (!state.writer) return { ready: false, ...(state.reason ? { reason: state.reason } : {}) };
    return { ready: true };
  }

  /**
   * Resolves once the record at `offset` is written (or dead-lettered); rejects if the ingest
   * stops first (the record was not stored, so it must not be acked).
   */
  stored(offset: number): Promise<void> {
    return this.reader.passed(offset);
  }

  start(): void {
    if (this.started) return;
    this.started = true;
    this.pipeline.start().catch((error: unknown) => {
      this.options.logger.error({ err: error }, 'the embedded ingest did not start');
    });
  }

  /**
   * Writes everything the log holds and stops. Close the log first (no more appends), or
   * records appended after the drain stay unwritten.
   */
  drain(): Promise<void> {
    return this.reader.stop();
  }

  /**
   * `drain`, but for at most `timeoutMs`: past it the write in hand is abandoned (the writer is
   * stopped, so even a statement that never returns does not hold the shutdown), waiting appends
   * are failed rather than acked, and what was not stored stays unacknowledged. Resolves with
   * whether everything was written.
   */
  async stop(timeoutMs: number, graceMs = 1_000): Promise<boolean> {
    const drained = await this.pipeline.stop(timeoutMs, graceMs);
    // Not drained: the pipeline gave up (aborted) on what it had in hand.
    if (!drained) this.aborted = true;
    return drained;
  }

  /** Gives up: the writer stops, the reading ends, appends waiting for their write fail. */
  abort(): void {
    this.aborted = true;
    this.pipeline.abort();
  }
}

import { DAY_MS, dayStart } from '@fleetwire/store';
import { encodeTelemetryRecord, telemetryRecordKey } from '@fleetwire/protocol';
import {
  checkRecord,
  type BatchWriter,
  type DeadLetter,
  type DeadLetterQueue,
  type PendingRow,
} from '@fleetwire/ingest';
import type { MemoryTelemetryLog } from '@fleetwire/telemetry-log';
import type { Logger } from 'pino';

export interface LogIngestOptions {
  log: MemoryTelemetryLog;
  writer: Pick<BatchWriter, 'write'>;
  dlq: Pick<DeadLetterQueue, 'send'>;
  logger: Logger;
  maxRows: number;
  maxRecordBytes: number;
  maxFutureSkewMs: number;
  retentionDays: number;
}

/** The `topic` a dead letter names as its source: the in-process log has one partition. */
export const EMBEDDED_LOG_TOPIC = 'embedded-telemetry-log';

/**
 * The embedded twin of the ingest worker's consumer: reads the in-process telemetry log by
 * offset, checks each record as the worker does, and writes batches through the same
 * BatchWriter. The offset moves past a batch only after its write succeeded (the writer
 * retries transient failures itself). Whatever piled up during one write is the next batch, so
 * batches grow with load and a quiet system writes each record at once.
 */
export class LogIngest {
  private offset = 0;
  private stopping = false;
  private wake: (() => void) | undefined;
  private loop: Promise<void> | undefined;
  private storedWaiters: { offset: number; resolve: () => void }[] = [];

  constructor(private readonly options: LogIngestOptions) {}

  /** Records written to the store (or dead-lettered) so far: the log offset reached. */
  get position(): number {
    return this.offset;
  }

  /** Resolves once the record at `offset` is written (or dead-lettered). */
  stored(offset: number): Promise<void> {
    if (offset < this.offset) return Promise.resolve();
    return new Promise((resolve) => this.storedWaiters.push({ offset, resolve }));
  }

  start(): void {
    this.loop ??= this.run();
  }

  /**
   * Writes everything the log holds and stops. Close the log first (no more appends), or
   * records appended after the drain stay unwritten.
   */
  async drain(): Promise<void> {
    this.stopping = true;
    this.wake?.();
    await this.loop;
    // The loop may have stopped waiting with records behind it; write those too.
    while (await this.writeNext()) {
      // keep going until the log is empty
    }
  }

  private async run(): Promise<void> {
    while (!this.stopping) {
      if (!(await this.writeNext())) {
        await Promise.race([
          this.options.log.waitFor(this.offset),
          new Promise<void>((resolve) => (this.wake = resolve)),
        ]);
        this.wake = undefined;
      }
    }
  }

  /** Writes the next batch; false when the log held nothing past the offset. */
  private async writeNext(): Promise<boolean> {
    const { log, writer, dlq, logger, maxRows } = this.options;
    const { records, next } = log.read(this.offset, maxRows);
    if (records.length === 0) return false;
    const now = Date.now();
    const limits = {
      maxRecordBytes: this.options.maxRecordBytes,
      maxFutureSkewMs: this.options.maxFutureSkewMs,
      oldestTs: dayStart(now) - this.options.retentionDays * DAY_MS,
      now,
    };
    const rows: PendingRow[] = [];
    const letters: DeadLetter[] = [];
    records.forEach((record, i) => {
      // The same bytes the Kafka log would carry, so the same checks and dead letters apply.
      const value = encodeTelemetryRecord(record);
      const source = {
        topic: EMBEDDED_LOG_TOPIC,
        partition: 0,
        offset: String(this.offset + i),
        key: Buffer.from(telemetryRecordKey(record)),
        value,
      };
      const checked = checkRecord(value, limits);
      if (checked.ok) {
        const { tenant, deviceId, msgId, topic, ts, data } = checked.record;
        rows.push({ row: { tenant, deviceId, msgId, topic, ts, data }, source });
      } else letters.push({ source, reason: checked.reason, message: checked.message });
    });
    if (letters.length > 0) {
      logger.warn(
        { records: letters.map((l) => ({ offset: l.source.offset, reason: l.reason })) },
        'records set aside as dead letters',
      );
      await dlq.send(letters);
    }
    if (rows.length > 0) await writer.write(rows);
    this.offset = next;
    log.release(next);
    const waiting = this.storedWaiters;
    this.storedWaiters = [];
    for (const waiter of waiting) {
      if (waiter.offset < next) waiter.resolve();
      else this.storedWaiters.push(waiter);
    }
    logger.debug({ rows: rows.length, position: next }, 'batch stored');
    return true;
  }
}

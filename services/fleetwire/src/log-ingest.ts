import { setTimeout as delay } from 'node:timers/promises';

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
  /** The ingest worker's BatchWriter (tests pass stand-ins with `write` only). */
  writer: Pick<BatchWriter, 'write'> & Partial<Pick<BatchWriter, 'status' | 'stop'>>;
  dlq: Pick<DeadLetterQueue, 'send'>;
  logger: Logger;
  maxRows: number;
  maxRecordBytes: number;
  maxFutureSkewMs: number;
  retentionDays: number;
}

/** The `topic` a dead letter names as its source: the in-process log has one partition. */
export const EMBEDDED_LOG_TOPIC = 'embedded-telemetry-log';

/** Waiting after a failed step of the loop (the dead-letter file not writable, say). */
const RETRY_MS = 1_000;

/** Waits for `work` to settle, at most `ms`; whether it settled in time. Never throws. */
export async function settleWithin(work: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), Math.max(0, ms));
  });
  const settled = work.then(
    () => true as const,
    () => true as const,
  );
  const result = await Promise.race([settled, timeout]);
  clearTimeout(timer);
  return result;
}

export class LogIngestStoppedError extends Error {
  override readonly name = 'LogIngestStoppedError';
  readonly code = 'EMBEDDED_INGEST_STOPPED';
}

/**
 * The embedded twin of the ingest worker's consumer: reads the in-process telemetry log by
 * offset, checks each record as the worker does, and writes batches through the same
 * BatchWriter. The offset moves past a batch only after its write succeeded (the writer
 * retries outages itself and sets aside rows the store refuses). Whatever piled up during one
 * write is the next batch, so batches grow with load and a quiet system writes each record at
 * once.
 */
export class LogIngest {
  private offset = 0;
  private stopping = false;
  private aborted = false;
  private wake: (() => void) | undefined;
  private loop: Promise<void> | undefined;
  private storedWaiters: { offset: number; resolve: () => void; reject: (e: Error) => void }[] = [];

  constructor(private readonly options: LogIngestOptions) {}

  /** Records written to the store (or dead-lettered) so far: the log offset reached. */
  get position(): number {
    return this.offset;
  }

  /**
   * Ready unless the writer is stuck (a write in hand longer than its bound) or the loop was
   * aborted; `reason` says which.
   */
  readiness(): { ready: boolean; reason?: string } {
    if (this.aborted) return { ready: false, reason: 'ingest stopped' };
    const status = this.options.writer.status?.();
    if (status?.stuck) {
      return {
        ready: false,
        reason: `writer stuck for ${Math.round(status.pendingMs / 1000)} s (${status.failures} failed attempts)`,
      };
    }
    return { ready: true };
  }

  /**
   * Resolves once the record at `offset` is written (or dead-lettered); rejects if the ingest is
   * aborted first (the record was not stored, so it must not be acked).
   */
  stored(offset: number): Promise<void> {
    if (offset < this.offset) return Promise.resolve();
    if (this.aborted) return Promise.reject(new LogIngestStoppedError('the ingest stopped'));
    return new Promise((resolve, reject) => this.storedWaiters.push({ offset, resolve, reject }));
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
    while (!this.aborted && (await this.writeNext())) {
      // keep going until the log is empty
    }
  }

  /**
   * `drain`, but for at most `timeoutMs`: past it the write in hand is abandoned (the writer is
   * stopped, so even a statement that never returns does not hold the shutdown), waiting appends
   * are failed rather than acked, and what was not stored stays unacknowledged. Resolves with
   * whether everything was written.
   */
  async stop(timeoutMs: number): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), timeoutMs);
    });
    const drained = this.drain().then(
      () => 'drained' as const,
      () => 'failed' as const,
    );
    const outcome = await Promise.race([drained, timeout]);
    clearTimeout(timer);
    if (outcome === 'drained') return true;
    this.abort();
    return false;
  }

  /** Gives up: the writer stops, the loop ends, appends waiting for their write fail. */
  abort(): void {
    if (this.aborted) return;
    this.aborted = true;
    this.stopping = true;
    this.options.writer.stop?.();
    this.wake?.();
    const error = new LogIngestStoppedError('the ingest stopped before the record was stored');
    for (const waiter of this.storedWaiters.splice(0)) waiter.reject(error);
    this.options.logger.warn(
      { position: this.offset, unwritten: this.options.log.length - this.offset },
      'ingest abandoned with records not written; they were not acknowledged',
    );
  }

  private async run(): Promise<void> {
    while (!this.stopping) {
      let wrote: boolean;
      try {
        wrote = await this.writeNext();
      } catch (error) {
        if (this.aborted || (error as { code?: unknown }).code === 'INGEST_WRITER_STOPPED') return;
        // The writer retries the store itself; this is the dead-letter file or a bug. The offset
        // did not move: the same records are tried again.
        this.options.logger.error({ err: error, position: this.offset }, 'ingest step failed');
        await delay(RETRY_MS);
        continue;
      }
      if (!wrote) {
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
      const offset = String(this.offset + i);
      let value: Buffer;
      try {
        // The same bytes the Kafka log would carry, so the same checks and dead letters apply.
        value = encodeTelemetryRecord(record);
      } catch (error) {
        // A value JavaScript cannot even serialise (too deep, say): set aside, never retried.
        letters.push({
          source: { topic: EMBEDDED_LOG_TOPIC, partition: 0, offset, key: null, value: null },
          reason: 'record_invalid',
          message: `cannot be encoded: ${(error as Error).message}`,
        });
        return;
      }
      const source = {
        topic: EMBEDDED_LOG_TOPIC,
        partition: 0,
        offset,
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
        {
          records: letters.map((l) => ({
            offset: l.source.offset,
            reason: l.reason,
            message: l.message,
          })),
        },
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

import {
  encodeTelemetryRecord,
  telemetryRecordKey,
  type TelemetryRecord,
} from '@fleetwire/protocol';

import {
  LogReaderError,
  type LogBatch,
  type LogPosition,
  type LogReaderHandler,
  type LogRecord,
  type TelemetryLogReader,
} from './log-reader.js';
import type { MemoryTelemetryLog } from './memory-telemetry-log.js';

export interface MemoryLogReaderOptions {
  /** The topic its records name as their source (default `telemetry`). */
  topic?: string;
  /** Records per batch at most (default 500): whatever piled up during one batch, up to this. */
  maxBatch?: number;
  /** Pause before delivering again a batch its handler did not commit (default 1000 ms). */
  retryDelayMs?: number;
}

interface Waiter {
  offset: number;
  resolve: () => void;
  reject: (error: Error) => void;
}

/**
 * The in-process twin of `KafkaLogReader`: reads `MemoryTelemetryLog` (one partition, 0) from the
 * committed offset, one batch at a time. A commit releases the records before it from the log, so
 * a reader started later over the same log resumes there. Records are handed over as the bytes
 * Kafka would carry (`encodeTelemetryRecord`), so the same checks apply to them.
 */
export class MemoryLogReader implements TelemetryLogReader {
  readonly topic: string;
  private readonly maxBatch: number;
  private readonly retryDelayMs: number;
  private committed: number;
  private loop: Promise<void> | undefined;
  private stopping = false;
  private aborted = false;
  private finished = false;
  /** Aborts when the reader is aborted; every batch's signal follows it. */
  private readonly revoke = new AbortController();
  /** The batch in hand: its end offset. */
  private inHand: number | undefined;
  private wake: (() => void) | undefined;
  private waiters: Waiter[] = [];
  /** Set when a drain (`stop`) could not get past records its handler did not commit. */
  private leftBehind = 0;

  constructor(
    private readonly log: MemoryTelemetryLog,
    options: MemoryLogReaderOptions = {},
  ) {
    this.topic = options.topic ?? 'telemetry';
    this.maxBatch = options.maxBatch ?? 500;
    this.retryDelayMs = options.retryDelayMs ?? 1_000;
    // Records an earlier reader committed were released: start after them.
    this.committed = log.length - log.held;
  }

  get ready(): boolean {
    return this.loop !== undefined && !this.aborted && !this.finished;
  }

  /** The committed offset: every record before it was handled. */
  get position(): number {
    return this.committed;
  }

  /**
   * Resolves once the record at `offset` was committed past; rejects with `LOG_READER_STOPPED`
   * if the reader stops (or is aborted) before that.
   */
  passed(offset: number): Promise<void> {
    if (offset < this.committed) return Promise.resolve();
    if (this.aborted || this.finished) return Promise.reject(this.stoppedError());
    return new Promise((resolve, reject) => this.waiters.push({ offset, resolve, reject }));
  }

  async start(handler: LogReaderHandler): Promise<void> {
    if (this.loop) throw new LogReaderError('LOG_READER_STARTED', 'the reader was started');
    this.loop = this.run(handler);
    handler.assigned?.({ partitions: [{ topic: this.topic, partition: 0 }], revoked: [] });
  }

  async commit(position: LogPosition): Promise<void> {
    const offset = Number(position.offset);
    if (position.topic !== this.topic || position.partition !== 0) {
      throw new LogReaderError('LOG_COMMIT_REFUSED', `not this reader's partition`);
    }
    if (this.inHand === undefined || this.revoke.signal.aborted) {
      throw new LogReaderError('LOG_COMMIT_REFUSED', 'no batch of the partition in hand');
    }
    if (!Number.isSafeInteger(offset) || offset > this.inHand) {
      throw new LogReaderError('LOG_COMMIT_REFUSED', `offset ${position.offset} was not delivered`);
    }
    if (offset <= this.committed) return;
    this.committed = offset;
    this.log.release(offset);
    const waiting = this.waiters;
    this.waiters = [];
    for (const waiter of waiting) {
      if (waiter.offset < offset) waiter.resolve();
      else this.waiters.push(waiter);
    }
  }

  /**
   * Delivers what the log holds, then stops. Close the log first, or records appended meanwhile
   * may stay behind. Rejects with `LOG_READER_STOPPED` when a batch its handler did not commit
   * ended the drain (those records were not handled).
   */
  async stop(): Promise<void> {
    this.stopping = true;
    this.wake?.();
    if (!this.loop) this.finish();
    await this.loop;
    if (this.leftBehind > 0 && !this.aborted) {
      throw new LogReaderError(
        'LOG_READER_STOPPED',
        `stopped with ${this.leftBehind} records not handled`,
      );
    }
  }

  abort(): void {
    if (this.aborted) return;
    this.aborted = true;
    this.stopping = true;
    this.revoke.abort(new LogReaderError('LOG_READER_STOPPED', 'the reader was aborted'));
    this.wake?.();
    // Whoever waits for a record gets the news now, not when the handler in hand returns.
    this.rejectWaiters();
  }

  private async run(handler: LogReaderHandler): Promise<void> {
    try {
      while (!this.aborted) {
        const batch = this.read();
        if (!batch) {
          if (this.stopping) break;
          await this.idle();
          continue;
        }
        const before = this.committed;
        this.inHand = Number(batch.next.offset);
        try {
          await handler.batch(batch);
        } catch {
          // Handled below: nothing committed, so the same records come again.
        } finally {
          this.inHand = undefined;
        }
        if (this.aborted || this.committed > before) continue;
        if (this.stopping) {
          this.leftBehind = this.log.length - this.committed;
          break;
        }
        await this.pause(this.retryDelayMs);
      }
    } finally {
      this.finish();
    }
  }

  private read(): LogBatch | undefined {
    const { records, next } = this.log.read(this.committed, this.maxBatch);
    if (records.length === 0) return undefined;
    const first = next - records.length;
    return {
      topic: this.topic,
      partition: 0,
      records: records.map((record, i) => this.toLogRecord(record, first + i)),
      next: { topic: this.topic, partition: 0, offset: String(next) },
      highWatermark: String(this.log.length),
      signal: this.revoke.signal,
    };
  }

  private toLogRecord(record: TelemetryRecord, offset: number): LogRecord {
    const position = { topic: this.topic, partition: 0, offset: String(offset) };
    try {
      const value = encodeTelemetryRecord(record);
      return { ...position, key: Buffer.from(telemetryRecordKey(record)), value };
    } catch (error) {
      // An object JSON cannot express (too deep, say): no bytes to hand over.
      return {
        ...position,
        key: null,
        value: null,
        unreadable: `cannot be encoded: ${(error as Error)?.message ?? String(error)}`,
      };
    }
  }

  /** Until the log holds a record past the committed offset, or `stop`/`abort`. */
  private idle(): Promise<void> {
    return new Promise<void>((resolve) => {
      this.wake = resolve;
      if (!this.log.closed) void this.log.waitFor(this.committed).then(resolve);
    }).finally(() => (this.wake = undefined));
  }

  private pause(ms: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    return new Promise<void>((resolve) => {
      this.wake = resolve;
      timer = setTimeout(resolve, ms);
    }).finally(() => {
      clearTimeout(timer);
      this.wake = undefined;
    });
  }

  private finish(): void {
    this.finished = true;
    this.rejectWaiters();
  }

  private rejectWaiters(): void {
    const error = this.stoppedError();
    for (const waiter of this.waiters.splice(0)) waiter.reject(error);
  }

  private stoppedError(): LogReaderError {
    return new LogReaderError(
      'LOG_READER_STOPPED',
      'the reader stopped before the record was committed',
    );
  }
}

/** One partition of the log (Kafka's topic and partition; the in-process log has partition 0). */
export interface LogPartition {
  topic: string;
  partition: number;
}

/** A place in one partition. `offset` is a decimal string: Kafka offsets are 64-bit. */
export interface LogPosition extends LogPartition {
  offset: string;
}

/** One record as read: its bytes and where it sits, so it can be committed past or found again. */
export interface LogRecord extends LogPosition {
  key: Buffer | null;
  value: Buffer | null;
  /**
   * Why the reader could not give the record's bytes (`value` is null then). Only the in-process
   * log has such records: it holds objects, and not every object can be written as JSON.
   */
  unreadable?: string;
}

/** Records of one partition in offset order, as one delivery. */
export interface LogBatch extends LogPartition {
  records: readonly LogRecord[];
  /** The position after the last record: what to commit once the batch is durable. */
  next: LogPosition;
  /** The partition's end when the batch was read (`highWatermark − next.offset` is the lag). */
  highWatermark: string;
  /**
   * Aborts when the partition is taken away while the batch is in hand (a rebalance, or
   * `abort`): stop working on it. Its commit is refused; the partition's owner reads it again.
   */
  signal: AbortSignal;
}

/** The partitions a reader holds after a group join (or its start). */
export interface LogAssignment {
  partitions: readonly LogPartition[];
  /** Held before and not any more. */
  revoked: readonly LogPartition[];
  /** The reader's member id in its consumer group, when it has one. */
  memberId?: string;
}

/** What a reader delivers to; only `batch` is required. */
export interface LogReaderHandler {
  /**
   * Handles one batch. Batches of one partition come one at a time and in order; partitions may
   * be handled concurrently. Records the handler did not commit past (it resolved without, or
   * rejected) are delivered again: reading is at least once.
   */
  batch(batch: LogBatch): Promise<void>;
  /** The assignment changed: once at start, then after each rebalance. */
  assigned?(assignment: LogAssignment): void;
  /** The reader crashed; when `restarting` is false it stopped for good and is not ready. */
  crashed?(error: Error, restarting: boolean): void;
}

/**
 * Reads the telemetry log back, per partition, from the last committed position: the ingest
 * side of the log the edge appends to (`TelemetryLog`). Drivers: `KafkaLogReader` (a kafkajs
 * consumer group) and `MemoryLogReader` (over `MemoryTelemetryLog`); `logReaderContract` is what
 * both do.
 */
export interface TelemetryLogReader {
  /** Started and holding its place: Kafka, in its group now (not crashed, not rebalancing). */
  readonly ready: boolean;
  /** Why `ready` is false (`consumer crashed (…); restarting`), for readiness answers. */
  readonly notReadyBecause?: string | undefined;
  /** Starts delivering; resolves once the reader is ready (Kafka: joined its group). */
  start(handler: LogReaderHandler): Promise<void>;
  /**
   * Records before `position` in its partition are durable: they are not delivered again, even
   * to another reader of the group. Only for a batch in hand (Kafka: its partition's batch);
   * refused with `LOG_COMMIT_REFUSED` once the partition was taken away.
   */
  commit(position: LogPosition): Promise<void>;
  /**
   * Delivers nothing new, waits for the batches in hand (handled and committed) and leaves: a
   * Kafka reader leaves its group, so its partitions move at once. The in-process log lives only
   * as long as the process, so `MemoryLogReader` first delivers what the log still holds. Bounded
   * by the handlers; `abort` ends the wait.
   */
  stop(): Promise<void>;
  /** Revokes every batch in hand (their signals abort, their commits are refused) and delivers nothing more. */
  abort(): void;
}

export type LogReaderErrorCode = 'LOG_COMMIT_REFUSED' | 'LOG_READER_STOPPED' | 'LOG_READER_STARTED';

export class LogReaderError extends Error {
  override readonly name = 'LogReaderError';
  constructor(
    readonly code: LogReaderErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** `topic|partition`: how assignments are keyed. */
export function partitionKey({ topic, partition }: LogPartition): string {
  return `${topic}|${partition}`;
}

import {
  partitionKey,
  type LogAssignment,
  type LogBatch,
  type TelemetryLogReader,
} from '@fleetwire/telemetry-log';
import type { Logger } from 'pino';

import { Batcher } from './batcher.js';
import type { BatchWriter, PendingRow } from './batch-writer.js';
import { sendDeadLetters, type DeadLetter, type DeadLetterSink } from './dead-letter.js';
import type { IngestMetrics } from './metrics.js';
import { checkRecords, limitsAt, type RecordPolicy } from './record-check.js';
import { backoff, unlessAborted, type RetryDelays } from './retry.js';
import { within } from './within.js';
import { DEAD_LETTER_SENDER, WriterHealth, type WriterStatus } from './writer-health.js';

export interface IngestPipelineDeps extends RetryDelays {
  reader: TelemetryLogReader;
  /** The BatchWriter (tests pass stand-ins with `write` only). */
  writer: Pick<BatchWriter, 'write'> & Partial<Pick<BatchWriter, 'status' | 'stop'>>;
  /** Where records the check refuses go (the writer has the same sink for rows the store refuses). */
  deadLetters: DeadLetterSink;
  metrics: IngestMetrics;
  logger: Logger;
  policy: RecordPolicy;
  /** Rows per write statement at most. */
  maxRows: number;
  /** Longest a row waits for its batch to fill. */
  maxWaitMs: number;
  /** The reader stopped for good (kafkajs gave up restarting it); the process should exit. */
  onFatal?: (error: Error) => void;
  /**
   * Dead letters of the record check still unsent (in flight or retrying) after this long make
   * the pipeline not ready, as a stuck writer does. Default 30 s.
   */
  stuckAfterMs?: number;
  /** Repeated dead-letter send failures are logged at most once per this interval. Default 10 s. */
  failureLogIntervalMs?: number;
}

export interface PipelineReadiness {
  ready: boolean;
  /** The reader runs (Kafka: in its group). */
  reader: boolean;
  /** Neither the writer nor the dead-letter sending of the record check is stuck. */
  writer: boolean;
  /**
   * Why not ready, when either is stuck: `writer stuck for 42 s (17 failed attempts)`,
   * `dead-letter sink failing for 42 s (17 failed attempts)`.
   */
  reason?: string;
}

const STOPPED_CODES = new Set(['INGEST_WRITER_STOPPED', 'INGEST_BATCHER_CLOSED']);

/** The batch in hand was revoked (or the pipeline aborted) while its dead letters were unsent. */
class RevokedError extends Error {
  override readonly name = 'RevokedError';
}

function stuckFor(what: string, status: WriterStatus | undefined): string | undefined {
  if (!status?.stuck) return undefined;
  const seconds = Math.round(status.pendingMs / 1000);
  return `${what} for ${seconds} s (${status.failures} failed attempts)`;
}

/** `work`, or 'revoked' as soon as `signal` aborts (the work's own outcome is then ignored). */
function untilRevoked(work: Promise<void>, signal: AbortSignal): Promise<void | 'revoked'> {
  work.catch(() => undefined);
  if (signal.aborted) return Promise.resolve('revoked');
  return new Promise((resolve, reject) => {
    const onAbort = () => resolve('revoked');
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

/**
 * The one ingest path, for the worker (Kafka) and the embedded mode (the in-process log): each
 * batch the reader delivers is checked record by record, the refused ones go to the dead-letter
 * sink first, the rows join the shared Batcher (rows of all partitions written together by the
 * BatchWriter), and the partition's position is committed only once its rows are durable. A crash
 * anywhere before the commit reads the records again; the store's dedupe key makes that insert
 * nothing. A batch whose partition is revoked is left uncommitted for its new owner.
 */
export class IngestPipeline {
  private readonly batcher: Batcher<PendingRow>;
  private assigned = new Set<string>();
  /** Whether the dead letters of the record check get out (a sink failing for long: stuck). */
  private readonly letterHealth: WriterHealth;
  private readonly aborted = new AbortController();

  constructor(private readonly deps: IngestPipelineDeps) {
    this.batcher = new Batcher((rows) => deps.writer.write(rows), {
      maxItems: deps.maxRows,
      maxWaitMs: deps.maxWaitMs,
    });
    this.letterHealth = new WriterHealth(deps.logger, {
      stuckAfterMs: deps.stuckAfterMs ?? 30_000,
      failureLogIntervalMs: deps.failureLogIntervalMs ?? 10_000,
      names: DEAD_LETTER_SENDER,
    });
    deps.metrics.watchDeadLetters(() => this.letterHealth.status());
  }

  /** Partitions held, as `topic|partition`. */
  get assignment(): ReadonlySet<string> {
    return this.assigned;
  }

  readiness(): PipelineReadiness {
    const reader = this.deps.reader.ready;
    const reasons = [
      stuckFor('writer stuck', this.deps.writer.status?.()),
      stuckFor('dead-letter sink failing', this.letterHealth.status()),
    ].filter((reason) => reason !== undefined);
    if (reasons.length === 0) return { ready: reader, reader, writer: true };
    return { ready: false, reader, writer: false, reason: reasons.join('; ') };
  }

  /** Starts reading; resolves once the reader is ready (Kafka: joined its group). */
  start(): Promise<void> {
    return this.deps.reader.start({
      batch: (batch) => this.handle(batch),
      assigned: (assignment) => this.onAssigned(assignment),
      crashed: (error, restarting) => {
        this.deps.logger.error({ err: error, restart: restarting }, 'consumer crashed');
        if (!restarting) this.deps.onFatal?.(error);
      },
    });
  }

  /**
   * Finishes the batches in hand (written, committed) and stops the reader (Kafka: leaves the
   * group, so its partitions move at once). Past `timeoutMs` the rest is abandoned uncommitted:
   * the writer is stopped, so a write in hand fails at once even if its statement never returns,
   * and no position of an unwritten record is committed; the reader then gets `graceMs`. Resolves
   * with whether everything in hand was handled.
   */
  async stop(timeoutMs: number, graceMs: number): Promise<boolean> {
    const { logger, metrics } = this.deps;
    const stopped = this.deps.reader.stop().then(
      () => 'stopped' as const,
      (error: unknown) => {
        logger.warn({ err: error }, 'the consumer failed to stop cleanly');
        return 'failed' as const;
      },
    );
    const outcome = await within(stopped, timeoutMs);
    metrics.assignedPartitions.set(0);
    if (outcome === 'stopped') return true;
    if (outcome === 'timeout') {
      logger.warn(
        { timeoutMs, writer: this.deps.writer.status?.() },
        'shutdown timed out; abandoning the batches in hand uncommitted',
      );
    }
    this.abort();
    if ((await within(stopped, graceMs)) === 'timeout') {
      logger.warn({ graceMs }, 'the consumer did not stop; leaving without it');
    }
    return false;
  }

  /** Gives up at once: the writer stops, waiting rows fail, the batches in hand are revoked. */
  abort(): void {
    this.aborted.abort();
    this.deps.writer.stop?.();
    this.batcher.close();
    this.deps.reader.abort();
  }

  private async handle(batch: LogBatch): Promise<void> {
    if (batch.signal.aborted) return;
    const { metrics, logger } = this.deps;
    const { topic, partition } = batch;
    this.batcher.begin();
    let submitted = false;
    let stored = 0;
    try {
      const { rows, letters } = checkRecords(batch.records, limitsAt(Date.now(), this.deps.policy));
      stored = rows.length;
      if (letters.length > 0) {
        logger.warn(
          {
            topic,
            partition,
            records: letters.map((l) => ({
              offset: l.source.offset,
              reason: l.reason,
              message: l.message,
            })),
          },
          'records set aside as dead letters',
        );
        if ((await this.sendLetters(letters, batch.signal)) === 'revoked') {
          this.batcher.abandon();
          logger.info(
            { topic, partition, records: batch.records.length },
            'partition revoked with dead letters unsent; left uncommitted for its owner',
          );
          return;
        }
      }
      submitted = true;
      if ((await untilRevoked(this.batcher.submit(rows), batch.signal)) === 'revoked') {
        logger.info(
          { topic, partition, records: batch.records.length },
          'partition revoked with a batch in hand; left uncommitted for its owner',
        );
        return;
      }
    } catch (error) {
      if (!submitted) this.batcher.abandon();
      if (!STOPPED_CODES.has(String((error as { code?: unknown })?.code))) {
        logger.error(
          { err: error, topic, partition, offset: batch.records[0]?.offset },
          'batch not handled; its records are read again',
        );
      }
      throw error;
    }

    try {
      await this.deps.reader.commit(batch.next);
    } catch (error) {
      // Lost the partition to a rebalance: its new owner reads these records again, which
      // insert nothing. (kafkajs handles the error by rejoining the group.)
      metrics.commits.inc({ outcome: 'refused' });
      logger.info(
        { topic, partition, offset: batch.next.offset, err: error },
        'offset commit refused; the records will be replayed by the partition owner',
      );
      throw error;
    }
    metrics.commits.inc({ outcome: 'ok' });
    metrics.recordsConsumed.inc(batch.records.length);
    const lag = BigInt(batch.highWatermark) - BigInt(batch.next.offset);
    metrics.consumerLag.set({ topic, partition: String(partition) }, Number(lag > 0n ? lag : 0n));
    // `position`: the committed offset, as a number (exact below 2^53, which no log reaches).
    logger.debug(
      { topic, partition, rows: stored, position: Number(batch.next.offset) },
      'batch stored',
    );
  }

  /**
   * Sends the record check's dead letters, retrying (what is not sent yet) with backoff for as
   * long as the sink fails: a sink failing longer than the stuck bound makes the pipeline not
   * ready, and its failures are logged once per interval with their count. Gives up when the
   * batch is revoked or the pipeline aborted (its records are then read again).
   */
  private async sendLetters(
    letters: readonly DeadLetter[],
    revoked: AbortSignal,
  ): Promise<'sent' | 'revoked'> {
    const stop = new AbortController();
    const onStop = () => stop.abort();
    const signals = [revoked, this.aborted.signal];
    for (const s of signals) s.addEventListener('abort', onStop, { once: true });
    if (signals.some((s) => s.aborted)) stop.abort();
    const { signal } = stop;
    const gaveUp = () => new RevokedError('the batch was revoked');
    this.letterHealth.begin();
    try {
      await sendDeadLetters(this.deps.deadLetters, letters, this.deps.metrics, {
        guard: (work) => unlessAborted(work, signal, gaveUp),
        gaveUp: (error) => error instanceof RevokedError,
        failed: (error, pending) =>
          this.letterHealth.failed(error, { code: 'dlq_unavailable', letters: pending }),
        wait: async (attempt) => {
          if (!(await backoff(attempt, this.deps, signal))) throw gaveUp();
        },
      });
      this.letterHealth.succeeded();
      return 'sent';
    } catch (error) {
      if (error instanceof RevokedError) return 'revoked';
      throw error;
    } finally {
      for (const s of signals) s.removeEventListener('abort', onStop);
      this.letterHealth.end();
    }
  }

  private onAssigned(assignment: LogAssignment): void {
    const { metrics, logger } = this.deps;
    metrics.rebalances.inc();
    const now = new Set(assignment.partitions.map(partitionKey));
    for (const key of this.assigned) {
      if (now.has(key)) continue;
      const [topic, partition] = key.split('|') as [string, string];
      metrics.consumerLag.remove({ topic, partition });
    }
    this.assigned = now;
    metrics.assignedPartitions.set(now.size);
    const byTopic: Record<string, number[]> = {};
    for (const { topic, partition } of assignment.partitions) {
      (byTopic[topic] ??= []).push(partition);
    }
    logger.info(
      { memberId: assignment.memberId, assignment: byTopic },
      assignment.memberId === undefined ? 'reading the telemetry log' : 'joined consumer group',
    );
  }
}

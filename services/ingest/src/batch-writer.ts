import type { LogRecord } from '@fleetwire/telemetry-log';
import {
  toStoreError,
  writeFailureKind,
  type StoreError,
  type TelemetryRow,
  type TelemetryStore,
} from '@fleetwire/store';
import type { Logger } from 'pino';

import {
  DeadLetterSendError,
  sendDeadLetters,
  type DeadLetter,
  type DeadLetterSink,
} from './dead-letter.js';
import type { IngestMetrics } from './metrics.js';
import { backoff, unlessAborted, type RetryDelays } from './retry.js';
import { WriterHealth, type WriterStatus } from './writer-health.js';

export type { WriterStatus } from './writer-health.js';

/** A row on its way to the store, with the log record it came from. */
export interface PendingRow {
  row: TelemetryRow;
  source: LogRecord;
}

/** What the writer needs of the store (a TelemetryStore; tests wrap one). */
export type WriterStore = Pick<TelemetryStore, 'insertBatch' | 'probeWrite'>;

export interface BatchWriterDeps extends RetryDelays {
  store: WriterStore;
  /** Where the rows the store refuses go (sent and counted by the writer). */
  dlq: DeadLetterSink;
  metrics: IngestMetrics;
  logger: Logger;
  /**
   * Failures of unknown kind (internal error, schema error…) on the same rows before the writer
   * asks the store whether writes work at all; if they do, the rows are split (a row alone: set
   * aside). Default 3.
   */
  unknownFailureLimit?: number;
  /** A write in hand (in flight or retrying) longer than this makes the writer stuck. */
  stuckAfterMs?: number;
  /** Repeated failures are logged at most once per this interval, with their count. */
  failureLogIntervalMs?: number;
}

export class BatchWriterStoppedError extends Error {
  override readonly name = 'BatchWriterStoppedError';
  readonly code = 'INGEST_WRITER_STOPPED';
}

type Attempt = { ok: true; inserted: number } | { ok: false; error: StoreError };

/** What one write did, for the metrics and the dead-letter queue. */
interface Outcome {
  stored: number;
  inserted: number;
  letters: DeadLetter[];
}

/**
 * What a split knows of an unknown failure: `signature`, once the store's probe found writes
 * working while it persisted, is taken to follow the rows (parts failing so are split at once);
 * a row alone that fails so and then goes in shows it does not, and it is forgotten.
 */
interface Split {
  signature: string | undefined;
}

/** Two failures are "the same" when code and SQLSTATE match. */
function signatureOf(error: StoreError): string {
  return `${error.code}/${error.sqlState ?? ''}`;
}

function deadLetterMessage(error: StoreError): string {
  return error.sqlState ? `${error.message} (SQLSTATE ${error.sqlState})` : error.message;
}

/**
 * Writes one batch in one statement, and gives up on no row it can store:
 * - an outage (database unreachable or shutting down, out of connections, deadlock, lock wait) is
 *   retried with backoff until it ends or the writer is stopped;
 * - a batch the store refuses for its contents (bad text, a PostgreSQL limit, PGlite crashing on
 *   it) is split in halves, recursively, until the refused rows are alone: those go to the
 *   dead-letter queue with the store's reason, the others are stored. k bad rows among n cost
 *   O(k·log n) statements;
 * - a failure of unknown kind is retried a few times; if it persists while the store's write
 *   probe succeeds, the rows are taken for the cause and split as above. A row alone is set aside
 *   for such a failure only after failing alone as many times, and the probe succeeding again.
 * A write in hand too long marks the writer stuck (readiness, metrics); `stop` makes a write in
 * hand fail at once, even one whose statement never returns.
 */
export class BatchWriter {
  private readonly abort = new AbortController();
  private readonly unknownFailureLimit: number;
  private readonly health: WriterHealth;

  constructor(private readonly deps: BatchWriterDeps) {
    this.unknownFailureLimit = deps.unknownFailureLimit ?? 3;
    this.health = new WriterHealth(deps.logger, {
      stuckAfterMs: deps.stuckAfterMs ?? 30_000,
      failureLogIntervalMs: deps.failureLogIntervalMs ?? 10_000,
    });
    deps.metrics.watchWriter(() => this.status());
  }

  status(): WriterStatus {
    return this.health.status();
  }

  /** True once `stop` was called. */
  get stopped(): boolean {
    return this.abort.signal.aborted;
  }

  /**
   * Resolves once every row is stored or dead-lettered. Rejects only when the writer is stopped
   * before that (then nothing about these rows may be committed).
   */
  async write(rows: PendingRow[]): Promise<void> {
    if (this.stopped) throw new BatchWriterStoppedError('the batch writer is stopped');
    this.health.begin();
    try {
      const started = performance.now();
      const outcome: Outcome = { stored: 0, inserted: 0, letters: [] };
      const first = await this.tryRows(rows);
      if (first.ok) {
        outcome.stored = rows.length;
        outcome.inserted = first.inserted;
      } else if (rows.length === 1) {
        outcome.letters.push(this.letter(rows[0]!, first.error));
      } else {
        await this.isolate(rows, first.error, outcome);
      }
      await this.sendLetters(outcome.letters);
      const { metrics } = this.deps;
      metrics.batchRows.observe(rows.length);
      metrics.writeSeconds.observe((performance.now() - started) / 1000);
      metrics.rowsWritten.inc(outcome.inserted);
      metrics.rowsDuplicate.inc(outcome.stored - outcome.inserted);
    } finally {
      this.health.end();
    }
  }

  /**
   * Ends retrying for good: a write in hand fails at once, even when its statement never
   * returns (the shutdown deadline passed), and later writes are refused.
   */
  stop(): void {
    this.abort.abort();
  }

  /** Splits rows that fail together until each refused row is alone. */
  private async isolate(rows: PendingRow[], cause: StoreError, outcome: Outcome): Promise<void> {
    this.deps.metrics.batchesSplit.inc();
    this.deps.logger.warn(
      { err: cause, code: cause.code, sqlState: cause.sqlState, rows: rows.length },
      'batch refused by the store; splitting it to set the refused rows aside',
    );
    const split: Split = {
      signature: writeFailureKind(cause) === 'unknown' ? signatureOf(cause) : undefined,
    };
    const before = outcome.letters.length;
    await this.split(rows, outcome, split);
    this.deps.logger.warn(
      {
        rows: rows.length,
        refused: outcome.letters.slice(before).map((l) => ({
          offset: l.source.offset,
          partition: l.source.partition,
          message: l.message,
        })),
      },
      'rows refused by the store set aside as dead letters; the rest stored',
    );
  }

  /** `rows` (two or more) are known to fail together. */
  private async split(rows: PendingRow[], outcome: Outcome, split: Split): Promise<void> {
    const middle = Math.ceil(rows.length / 2);
    const left = rows.slice(0, middle);
    const right = rows.slice(middle);
    const leftStored = await this.writePart(left, outcome, split);
    // Left went in, so the right half holds what failed: split it without a statement for it
    // whole. A lone row is always tried by itself before it is set aside.
    if (leftStored && right.length > 1) await this.split(right, outcome, split);
    else await this.writePart(right, outcome, split);
  }

  /** Stores `rows`, or what of them the store takes; true when all went in at once. */
  private async writePart(rows: PendingRow[], outcome: Outcome, split: Split): Promise<boolean> {
    const attempt = await this.tryRows(rows, split);
    if (attempt.ok) {
      outcome.stored += rows.length;
      outcome.inserted += attempt.inserted;
      return true;
    }
    if (rows.length === 1) outcome.letters.push(this.letter(rows[0]!, attempt.error));
    else await this.split(rows, outcome, split);
    return false;
  }

  /**
   * One statement for `rows`, retried for as long as the failure is not theirs. Resolves with
   * the failure when it is: data-shaped; or unknown, failing `unknownFailureLimit` times on these
   * rows while the store's probe (asked afresh each time) finds writes working; or, for two rows
   * or more inside a split, unknown with the signature found to follow the rows. A row alone is
   * never set aside for an unknown failure without its own retries and probe.
   */
  private async tryRows(rows: PendingRow[], split?: Split): Promise<Attempt> {
    let unknownFailures = 0;
    for (let attempt = 0; ; attempt += 1) {
      let error: StoreError;
      try {
        const inserted = await this.abortable(this.deps.store.insertBatch(rows.map((r) => r.row)));
        this.health.succeeded();
        // It failed and then went in: that failure was the database's, not the rows'.
        if (split && unknownFailures > 0) split.signature = undefined;
        return { ok: true, inserted };
      } catch (caught) {
        if (caught instanceof BatchWriterStoppedError) throw caught;
        error = toStoreError(caught, 'write batch');
      }
      const kind = writeFailureKind(error);
      if (kind === 'data') return { ok: false, error };
      if (kind === 'unknown') {
        const signature = signatureOf(error);
        if (rows.length > 1 && split?.signature === signature) return { ok: false, error };
        unknownFailures += 1;
        if (unknownFailures >= this.unknownFailureLimit && (await this.storeWorks())) {
          if (split) split.signature = signature;
          return { ok: false, error };
        }
      }
      this.failed(error, kind, rows.length);
      await this.backoff(attempt);
    }
  }

  /** Whether the store takes writes now (its empty-batch probe succeeds). */
  private async storeWorks(): Promise<boolean> {
    try {
      await this.abortable(this.deps.store.probeWrite());
      return true;
    } catch (error) {
      if (error instanceof BatchWriterStoppedError) throw error;
      return false;
    }
  }

  /** Sends the set-aside rows, retrying (what is not sent yet) while the sink is unavailable. */
  private async sendLetters(letters: DeadLetter[]): Promise<void> {
    await sendDeadLetters(this.deps.dlq, letters, this.deps.metrics, {
      guard: (work) => this.abortable(work),
      gaveUp: (error) => error instanceof BatchWriterStoppedError,
      failed: (error, pending) => {
        const failure =
          error instanceof DeadLetterSendError
            ? error
            : new Error(`dead-letter send: ${error.message}`, { cause: error });
        this.health.failed(failure, { code: 'dlq_unavailable', letters: pending });
      },
      wait: (attempt) => this.backoff(attempt),
    });
  }

  private letter(pending: PendingRow, error: StoreError): DeadLetter {
    return {
      source: pending.source,
      reason: 'record_rejected_by_store',
      message: deadLetterMessage(error),
    };
  }

  /**
   * `work`, or BatchWriterStoppedError as soon as the writer is stopped (a statement may still
   * finish or fail later; nobody waits for it any more).
   */
  private abortable<T>(work: Promise<T>): Promise<T> {
    return unlessAborted(
      work,
      this.abort.signal,
      () => new BatchWriterStoppedError('the batch writer was stopped'),
    );
  }

  private async backoff(attempt: number): Promise<void> {
    if (!(await backoff(attempt, this.deps, this.abort.signal))) {
      throw new BatchWriterStoppedError('the batch writer was stopped');
    }
  }

  private failed(error: StoreError, kind: string, rows: number): void {
    this.deps.metrics.writeErrors.inc({ code: error.code });
    this.health.failed(error, { code: error.code, sqlState: error.sqlState, kind, rows });
  }
}

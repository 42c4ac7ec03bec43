import { setTimeout as delay } from 'node:timers/promises';

import {
  toStoreError,
  writeFailureKind,
  type StoreError,
  type TelemetryRow,
  type TelemetryStore,
} from '@fleetwire/store';
import type { Logger } from 'pino';

import type { DeadLetter, DeadLetterQueue, SourceRecord } from './dead-letter.js';
import type { IngestMetrics } from './metrics.js';

/** A row on its way to the store, with the Kafka record it came from. */
export interface PendingRow {
  row: TelemetryRow;
  source: SourceRecord;
}

/** What the writer needs of the store (a TelemetryStore; tests wrap one). */
export type WriterStore = Pick<TelemetryStore, 'insertBatch' | 'probeWrite'>;

export interface BatchWriterDeps {
  store: WriterStore;
  dlq: Pick<DeadLetterQueue, 'send'>;
  metrics: IngestMetrics;
  logger: Logger;
  /** Retry backoff: full jitter on base·2^attempt, capped. */
  retryBaseMs?: number;
  retryMaxMs?: number;
  /**
   * Failures of unknown kind (statement timeout, internal error…) on the same rows before the
   * writer asks the store whether writes work at all; if they do, the rows are split. Default 3.
   */
  unknownFailureLimit?: number;
  /** A write in hand (in flight or retrying) longer than this makes the writer stuck. */
  stuckAfterMs?: number;
  /** Repeated failures are logged at most once per this interval, with their count. */
  failureLogIntervalMs?: number;
}

export interface WriterStatus {
  /** A write has been in hand longer than `stuckAfterMs`. */
  stuck: boolean;
  /** How long the write in hand has been going on, ms; 0 when idle. */
  pendingMs: number;
  /** When a write last succeeded (ms since the epoch), if one has. */
  lastSuccessAt?: number;
  /** Failed attempts since the last success. */
  failures: number;
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
 *   probe succeeds, the rows are taken for the cause and split as above.
 * A write in hand too long marks the writer stuck (readiness, metrics); `stop` makes a write in
 * hand fail at once, even one whose statement never returns.
 */
export class BatchWriter {
  private readonly abort = new AbortController();
  private readonly stuckAfterMs: number;
  private readonly failureLogIntervalMs: number;
  private readonly unknownFailureLimit: number;
  private writes = 0;
  private pendingSince: number | undefined;
  private stuckTimer: NodeJS.Timeout | undefined;
  private reportedStuck = false;
  private lastSuccessAt: number | undefined;
  /** Failed attempts since the last success, and the part of them not logged yet. */
  private failures = { total: 0, unlogged: 0, since: 0, loggedAt: undefined as number | undefined };

  constructor(private readonly deps: BatchWriterDeps) {
    this.stuckAfterMs = deps.stuckAfterMs ?? 30_000;
    this.failureLogIntervalMs = deps.failureLogIntervalMs ?? 10_000;
    this.unknownFailureLimit = deps.unknownFailureLimit ?? 3;
    deps.metrics.watchWriter(() => this.status());
  }

  status(): WriterStatus {
    const pendingMs = this.pendingSince === undefined ? 0 : Date.now() - this.pendingSince;
    return {
      stuck: this.pendingSince !== undefined && pendingMs > this.stuckAfterMs,
      pendingMs,
      ...(this.lastSuccessAt === undefined ? {} : { lastSuccessAt: this.lastSuccessAt }),
      failures: this.failures.total,
    };
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
    this.begin();
    try {
      const started = performance.now();
      const outcome: Outcome = { stored: 0, inserted: 0, letters: [] };
      const first = await this.tryRows(rows, undefined);
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
      this.end();
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
    const signature = writeFailureKind(cause) === 'unknown' ? signatureOf(cause) : undefined;
    const before = outcome.letters.length;
    await this.split(rows, outcome, signature);
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
  private async split(
    rows: PendingRow[],
    outcome: Outcome,
    signature: string | undefined,
  ): Promise<void> {
    const middle = Math.ceil(rows.length / 2);
    const left = rows.slice(0, middle);
    const right = rows.slice(middle);
    const leftStored = await this.writePart(left, outcome, signature);
    // Left went in, so the right half holds what failed: split it without a statement for it
    // whole. A lone row is always tried by itself before it is set aside.
    if (leftStored && right.length > 1) await this.split(right, outcome, signature);
    else await this.writePart(right, outcome, signature);
  }

  /** Stores `rows`, or what of them the store takes; true when all went in at once. */
  private async writePart(
    rows: PendingRow[],
    outcome: Outcome,
    signature: string | undefined,
  ): Promise<boolean> {
    const attempt = await this.tryRows(rows, signature);
    if (attempt.ok) {
      outcome.stored += rows.length;
      outcome.inserted += attempt.inserted;
      return true;
    }
    if (rows.length === 1) outcome.letters.push(this.letter(rows[0]!, attempt.error));
    else {
      const own =
        writeFailureKind(attempt.error) === 'unknown' ? signatureOf(attempt.error) : undefined;
      await this.split(rows, outcome, signature ?? own);
    }
    return false;
  }

  /**
   * One statement for `rows`, retried for as long as the failure is not theirs. Resolves with
   * the failure when it is (data-shaped, or unknown and persisting while the store works, or
   * matching `signature`: the unknown failure already found to follow these rows).
   */
  private async tryRows(rows: PendingRow[], signature: string | undefined): Promise<Attempt> {
    let unknownFailures = 0;
    for (let attempt = 0; ; attempt += 1) {
      let error: StoreError;
      try {
        const inserted = await this.abortable(this.deps.store.insertBatch(rows.map((r) => r.row)));
        this.succeeded();
        return { ok: true, inserted };
      } catch (caught) {
        if (caught instanceof BatchWriterStoppedError) throw caught;
        error = toStoreError(caught, 'write batch');
      }
      const kind = writeFailureKind(error);
      if (kind === 'data') return { ok: false, error };
      if (kind === 'unknown') {
        if (signature !== undefined && signatureOf(error) === signature)
          return { ok: false, error };
        unknownFailures += 1;
        if (unknownFailures >= this.unknownFailureLimit && (await this.storeWorks())) {
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

  /** Sends the set-aside rows, retrying while the dead-letter queue is unavailable. */
  private async sendLetters(letters: DeadLetter[]): Promise<void> {
    if (letters.length === 0) return;
    for (let attempt = 0; ; attempt += 1) {
      try {
        await this.abortable(this.deps.dlq.send(letters));
        return;
      } catch (error) {
        if (error instanceof BatchWriterStoppedError) throw error;
        const failure = new Error(`dead-letter send: ${(error as Error)?.message ?? error}`, {
          cause: error,
        });
        this.logFailure(failure, { code: 'dlq_unavailable', letters: letters.length });
        await this.backoff(attempt);
      }
    }
  }

  private letter(pending: PendingRow, error: StoreError): DeadLetter {
    return {
      source: pending.source,
      reason: 'record_rejected_by_store',
      message: deadLetterMessage(error),
    };
  }

  /** `work`, or BatchWriterStoppedError as soon as the writer is stopped. */
  private abortable<T>(work: Promise<T>): Promise<T> {
    const { signal } = this.abort;
    if (signal.aborted) {
      work.catch(() => undefined);
      return Promise.reject(new BatchWriterStoppedError('the batch writer was stopped'));
    }
    return new Promise<T>((resolve, reject) => {
      const onAbort = () => {
        // The statement may still finish or fail later; nobody waits for it any more.
        work.catch(() => undefined);
        reject(new BatchWriterStoppedError('the batch writer was stopped'));
      };
      signal.addEventListener('abort', onAbort, { once: true });
      work.then(
        (value) => {
          signal.removeEventListener('abort', onAbort);
          resolve(value);
        },
        (error: unknown) => {
          signal.removeEventListener('abort', onAbort);
          reject(error);
        },
      );
    });
  }

  private async backoff(attempt: number): Promise<void> {
    const cap = Math.min(
      this.deps.retryMaxMs ?? 5_000,
      (this.deps.retryBaseMs ?? 100) * 2 ** Math.min(attempt, 16),
    );
    try {
      await delay(Math.round(Math.random() * cap), undefined, { signal: this.abort.signal });
    } catch {
      throw new BatchWriterStoppedError('the batch writer was stopped');
    }
  }

  private failed(error: StoreError, kind: string, rows: number): void {
    this.deps.metrics.writeErrors.inc({ code: error.code });
    this.logFailure(error, { code: error.code, sqlState: error.sqlState, kind, rows });
  }

  /** Counts a failure; logs the first at once, then at most one line per interval with a count. */
  private logFailure(error: Error, fields: Record<string, unknown>): void {
    const now = Date.now();
    const failures = this.failures;
    if (failures.total === 0) failures.since = now;
    failures.total += 1;
    failures.unlogged += 1;
    if (failures.loggedAt !== undefined && now - failures.loggedAt < this.failureLogIntervalMs) {
      return;
    }
    this.deps.logger.warn(
      {
        err: error,
        ...fields,
        failures: failures.unlogged,
        failingForMs: now - failures.since,
        pendingMs: this.status().pendingMs,
      },
      failures.loggedAt === undefined
        ? 'batch write failed; retrying'
        : `batch write still failing (${failures.unlogged} failures since the last report); retrying`,
    );
    failures.loggedAt = now;
    failures.unlogged = 0;
  }

  private succeeded(): void {
    this.lastSuccessAt = Date.now();
    const failures = this.failures;
    if (failures.total === 0) return;
    this.deps.logger.info(
      { failures: failures.total, failingForMs: Date.now() - failures.since },
      'batch write succeeded again',
    );
    this.failures = { total: 0, unlogged: 0, since: 0, loggedAt: undefined };
  }

  private begin(): void {
    this.writes += 1;
    if (this.writes > 1) return;
    this.pendingSince = Date.now();
    this.stuckTimer = setTimeout(() => {
      this.reportedStuck = true;
      this.deps.logger.error(
        { stuckAfterMs: this.stuckAfterMs, failures: this.failures.total },
        `batch writer stuck: a write has been in hand for over ${Math.round(this.stuckAfterMs / 1000)} s; not ready`,
      );
    }, this.stuckAfterMs + 1);
    this.stuckTimer.unref();
  }

  private end(): void {
    this.writes -= 1;
    if (this.writes > 0) return;
    const pendingMs = this.status().pendingMs;
    this.pendingSince = undefined;
    clearTimeout(this.stuckTimer);
    if (this.reportedStuck) {
      this.reportedStuck = false;
      this.deps.logger.info({ pendingMs }, 'batch writer no longer stuck');
    }
  }
}

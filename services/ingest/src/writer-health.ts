import type { Logger } from 'pino';

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

export interface WriterHealthOptions {
  /** A write in hand (in flight or retrying) longer than this makes the writer stuck. */
  stuckAfterMs: number;
  /** Repeated failures are logged at most once per this interval, with their count. */
  failureLogIntervalMs: number;
  /** What the log lines call the work and its doer; the batch writer's by default. */
  names?: HealthNames;
}

/** How the log lines name what is watched: `${work} failed; retrying`, `${doer} stuck: …`. */
export interface HealthNames {
  /** `batch write` */
  work: string;
  /** `batch writer` */
  doer: string;
  /** `a write` */
  one: string;
}

const BATCH_WRITER: HealthNames = { work: 'batch write', doer: 'batch writer', one: 'a write' };

/** The ingest pipeline's sends of the records its check refuses. */
export const DEAD_LETTER_SENDER: HealthNames = {
  work: 'dead-letter send',
  doer: 'dead-letter sink',
  one: 'a send',
};

/**
 * How the batch writer (or another retrying sender: `names`) is doing, for readiness, metrics and
 * the log: whether a write has been in hand too long (stuck), and the failures since the last
 * success, logged when they start, then at most once per interval with their count, and once when
 * writes succeed again.
 */
export class WriterHealth {
  private writes = 0;
  private pendingSince: number | undefined;
  private stuckTimer: NodeJS.Timeout | undefined;
  private reportedStuck = false;
  private lastSuccessAt: number | undefined;
  /** Failed attempts since the last success, and the part of them not logged yet. */
  private failures = { total: 0, unlogged: 0, since: 0, loggedAt: undefined as number | undefined };

  private readonly names: HealthNames;

  constructor(
    private readonly logger: Logger,
    private readonly options: WriterHealthOptions,
  ) {
    this.names = options.names ?? BATCH_WRITER;
  }

  status(): WriterStatus {
    const pendingMs = this.pendingSince === undefined ? 0 : Date.now() - this.pendingSince;
    return {
      stuck: this.pendingSince !== undefined && pendingMs > this.options.stuckAfterMs,
      pendingMs,
      ...(this.lastSuccessAt === undefined ? {} : { lastSuccessAt: this.lastSuccessAt }),
      failures: this.failures.total,
    };
  }

  /** Counts a failure; logs the first at once, then at most one line per interval with a count. */
  failed(error: Error, fields: Record<string, unknown>): void {
    const now = Date.now();
    const failures = this.failures;
    if (failures.total === 0) failures.since = now;
    failures.total += 1;
    failures.unlogged += 1;
    if (
      failures.loggedAt !== undefined &&
      now - failures.loggedAt < this.options.failureLogIntervalMs
    ) {
      return;
    }
    this.logger.warn(
      {
        err: error,
        ...fields,
        failures: failures.unlogged,
        failingForMs: now - failures.since,
        pendingMs: this.status().pendingMs,
      },
      failures.loggedAt === undefined
        ? `${this.names.work} failed; retrying`
        : `${this.names.work} still failing (${failures.unlogged} failures since the last report); retrying`,
    );
    failures.loggedAt = now;
    failures.unlogged = 0;
  }

  succeeded(): void {
    this.lastSuccessAt = Date.now();
    const failures = this.failures;
    if (failures.total === 0) return;
    this.logger.info(
      { failures: failures.total, failingForMs: Date.now() - failures.since },
      `${this.names.work} succeeded again`,
    );
    this.failures = { total: 0, unlogged: 0, since: 0, loggedAt: undefined };
  }

  /** A write is in hand from now on (writes may overlap: the first begins, the last ends). */
  begin(): void {
    this.writes += 1;
    if (this.writes > 1) return;
    this.pendingSince = Date.now();
    this.stuckTimer = setTimeout(() => {
      this.reportedStuck = true;
      this.logger.error(
        { stuckAfterMs: this.options.stuckAfterMs, failures: this.failures.total },
        `${this.names.doer} stuck: ${this.names.one} has been in hand for over ${Math.round(this.options.stuckAfterMs / 1000)} s; not ready`,
      );
    }, this.options.stuckAfterMs + 1);
    this.stuckTimer.unref();
  }

  end(): void {
    this.writes -= 1;
    if (this.writes > 0) return;
    const pendingMs = this.status().pendingMs;
    this.pendingSince = undefined;
    clearTimeout(this.stuckTimer);
    if (this.reportedStuck) {
      this.reportedStuck = false;
      this.logger.info({ pendingMs }, `${this.names.doer} no longer stuck`);
    }
  }
}

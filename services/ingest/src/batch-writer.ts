import { setTimeout as delay } from 'node:timers/promises';

import { StoreError, toStoreError, type TelemetryRow, type TelemetryStore } from '@fleetwire/store';
import type { Logger } from 'pino';

import type { DeadLetter, DeadLetterQueue, SourceRecord } from './dead-letter.js';
import type { IngestMetrics } from './metrics.js';

/** A row on its way to the store, with the Kafka record it came from. */
export interface PendingRow {
  row: TelemetryRow;
  source: SourceRecord;
}

export interface BatchWriterDeps {
  store: TelemetryStore;
  dlq: DeadLetterQueue;
  metrics: IngestMetrics;
  logger: Logger;
  /** Retry backoff: full jitter on base·2^attempt, capped. */
  retryBaseMs?: number;
  retryMaxMs?: number;
}

/**
 * Writes one batch in one statement, and does not give up: transient failures (database down,
 * deadlock) are retried with backoff until they succeed or the writer is stopped. A batch that
 * PostgreSQL refuses because of its contents is split into single rows, so the rows it refuses
 * go to the dead-letter topic and the others are stored; one bad row never blocks a partition.
 */
export class BatchWriter {
  private readonly abort = new AbortController();

  constructor(private readonly deps: BatchWriterDeps) {}

  async write(rows: PendingRow[]): Promise<void> {
    for (let attempt = 0; ; attempt += 1) {
      try {
        await this.attempt(rows);
        return;
      } catch (error) {
        const storeError = toStoreError(error, 'write batch');
        this.deps.metrics.writeErrors.inc({ code: storeError.code });
        if (this.abort.signal.aborted) throw storeError;
        const cap = Math.min(
          this.deps.retryMaxMs ?? 5_000,
          (this.deps.retryBaseMs ?? 100) * 2 ** Math.min(attempt, 16),
        );
        const wait = Math.round(Math.random() * cap);
        this.deps.logger.warn(
          { err: storeError, code: storeError.code, attempt, rows: rows.length, retryInMs: wait },
          'batch write failed; retrying',
        );
        try {
          await delay(wait, undefined, { signal: this.abort.signal });
        } catch {
          throw storeError;
        }
      }
    }
  }

  /** Ends retrying: a write in its backoff fails at once (the shutdown deadline passed). */
  stop(): void {
    this.abort.abort();
  }

  private async attempt(rows: PendingRow[]): Promise<void> {
    const started = performance.now();
    let inserted: number;
    try {
      inserted = await this.deps.store.insertBatch(rows.map((r) => r.row));
    } catch (error) {
      if (error instanceof StoreError && error.code === 'store_data_rejected') {
        await this.isolate(rows, error);
        return;
      }
      throw error;
    }
    this.record(rows.length, inserted, started);
  }

  /** One statement per row: slow, but only for a batch holding a row PostgreSQL refuses. */
  private async isolate(rows: PendingRow[], cause: StoreError): Promise<void> {
    this.deps.logger.warn(
      { err: cause, rows: rows.length },
      'batch refused by the store; writing its rows one by one to set the bad ones aside',
    );
    const started = performance.now();
    const rejected: DeadLetter[] = [];
    let inserted = 0;
    for (const pending of rows) {
      try {
        inserted += await this.deps.store.insertBatch([pending.row]);
      } catch (error) {
        if (!(error instanceof StoreError) || error.code !== 'store_data_rejected') throw error;
        rejected.push({
          source: pending.source,
          reason: 'record_rejected_by_store',
          message: error.message,
        });
      }
    }
    await this.deps.dlq.send(rejected);
    this.record(rows.length - rejected.length, inserted, started);
  }

  private record(rows: number, inserted: number, started: number): void {
    const { metrics } = this.deps;
    metrics.batchRows.observe(rows);
    metrics.writeSeconds.observe((performance.now() - started) / 1000);
    metrics.rowsWritten.inc(inserted);
    metrics.rowsDuplicate.inc(rows - inserted);
  }
}

import type { TelemetryPoint } from '@fleetwire/protocol';

import { StoreError, sqlStateOf, toStoreError } from './errors.js';
import {
  DAY_MS,
  createPartitions,
  dayStart,
  dropPartitionsBefore,
  listPartitionDays,
} from './partitions.js';
import type { SqlClient } from './sql-client.js';
import type {
  Bucket,
  BucketQuery,
  LatestKey,
  LatestQuery,
  MaintenanceResult,
  Page,
  PointKey,
  RangeQuery,
  TelemetryRow,
} from './telemetry-queries.js';
import { BUCKETS, INSERT_BATCH, LATEST, RANGE } from './telemetry-sql.js';

interface PointRow {
  device_id: string;
  topic: string;
  ts: Date;
  msg_id: string;
  data: Record<string, unknown>;
}

/**
 * Deepest nesting of `data` a row may have (`{}` is 1, `{"a": []}` 2). PGlite's WASM build has no
 * working stack check: around a thousand levels it overflows its stack and corrupts its memory,
 * sometimes without failing the statement, so such JSON must never reach it. PostgreSQL refuses
 * far deeper values itself (54001), and the records the edge accepts are much shallower.
 */
export const MAX_DATA_DEPTH = 128;

export interface TelemetryStoreOptions {
  /** Rows whose `data` nests deeper are refused (`store_data_rejected`) before any statement. */
  maxDataDepth?: number;
}

/** Whether a JSON value nests deeper than `limit` (iterative: no recursion on hostile input). */
function nestsDeeperThan(value: unknown, limit: number): boolean {
  const stack: [unknown, number][] = [[value, 0]];
  while (stack.length > 0) {
    const [current, depth] = stack.pop()!;
    if (current === null || typeof current !== 'object') continue;
    if (depth + 1 > limit) return true;
    for (const inner of Object.values(current)) {
      if (inner !== null && typeof inner === 'object') stack.push([inner, depth + 1]);
    }
  }
  return false;
}

function describeRow(row: TelemetryRow): string {
  return `${row.tenant}/${row.deviceId} msg ${row.msgId}`;
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

function toPoint(row: PointRow): TelemetryPoint {
  return {
    deviceId: row.device_id,
    topic: row.topic,
    ts: row.ts.getTime(),
    msgId: row.msg_id,
    data: row.data,
  };
}

/** Telemetry rows in a daily-partitioned table: batch inserts, queries, partition upkeep. */
export class TelemetryStore {
  /** Days known to have a partition; refreshed from the catalog when an insert proves it stale. */
  private knownDays: Set<number> | undefined;
  private readonly maxDataDepth: number;

  constructor(
    private readonly client: SqlClient,
    options: TelemetryStoreOptions = {},
  ) {
    this.maxDataDepth = options.maxDataDepth ?? MAX_DATA_DEPTH;
  }

  /**
   * Inserts the rows not stored yet, in one statement; returns how many were new. Partitions
   * for the rows' days are created first when missing, so no row is ever without a home.
   */
  async insertBatch(rows: readonly TelemetryRow[]): Promise<number> {
    if (rows.length === 0) return 0;
    const data = rows.map((row) => this.serialise(row));
    try {
      await this.ensureDays(rows);
      try {
        return await this.insert(rows, data);
      } catch (error) {
        // 23514: no partition for a row. Another process dropped one we thought existed.
        if (sqlStateOf(error) !== '23514') throw error;
        this.knownDays = undefined;
        await this.ensureDays(rows);
        return await this.insert(rows, data);
      }
    } catch (error) {
      throw toStoreError(error, 'insert telemetry');
    }
  }

  /**
   * Whether a write can get through now, without writing anything: the batch insert with no rows
   * (same statement, same tables and locks). Resolves, or throws the StoreError a write would.
   * A writer whose batch keeps failing asks this to tell a sick database from sick rows.
   */
  async probeWrite(): Promise<void> {
    try {
      await this.client.query(INSERT_BATCH, [[], [], [], [], [], []]);
    } catch (error) {
      throw toStoreError(error, 'probe write');
    }
  }

  async range(query: RangeQuery): Promise<Page<TelemetryPoint, PointKey>> {
    const order = query.order ?? 'asc';
    const { rows } = await this.run<PointRow>('query telemetry', RANGE[order], [
      query.tenant,
      query.deviceId,
      iso(query.from),
      iso(query.to),
      query.topic ?? null,
      query.after ? iso(query.after.ts) : null,
      query.after?.msgId ?? null,
      query.limit + 1,
    ]);
    const items = rows.slice(0, query.limit).map(toPoint);
    const last = items.at(-1);
    return rows.length > query.limit && last
      ? { items, next: { ts: last.ts, msgId: last.msgId } }
      : { items };
  }

  async latest(query: LatestQuery): Promise<Page<TelemetryPoint, LatestKey>> {
    const { rows } = await this.run<PointRow>('query latest telemetry', LATEST, [
      query.tenant,
      query.deviceIds ?? null,
      query.after?.deviceId ?? null,
      query.after?.topic ?? null,
      query.limit + 1,
    ]);
    const items = rows.slice(0, query.limit).map(toPoint);
    const last = items.at(-1);
    return rows.length > query.limit && last
      ? { items, next: { deviceId: last.deviceId, topic: last.topic } }
      : { items };
  }

  /** Down-sampled series; buckets without a numeric value are left out. */
  async buckets(query: BucketQuery): Promise<Bucket[]> {
    const { rows } = await this.run<{
      start: Date;
      count: number;
      min: number;
      max: number;
      avg: number;
    }>('query buckets', BUCKETS, [
      query.tenant,
      query.deviceId,
      iso(query.from),
      iso(query.to),
      query.bucketMs,
      query.field,
      query.topic ?? null,
    ]);
    return rows.map((r) => ({
      start: r.start.getTime(),
      count: r.count,
      min: r.min,
      max: r.max,
      avg: r.avg,
    }));
  }

  /** Start days of the existing partitions, ascending. */
  async partitionDays(): Promise<number[]> {
    try {
      return await listPartitionDays(this.client);
    } catch (error) {
      throw toStoreError(error, 'list partitions');
    }
  }

  /**
   * Creates the partitions from today through `aheadDays` ahead, and drops those wholly older
   * than `retentionDays` before today's start.
   */
  async maintain(
    now: number,
    { aheadDays, retentionDays }: { aheadDays: number; retentionDays: number },
  ): Promise<MaintenanceResult> {
    if (retentionDays < 1) {
      throw new StoreError('store_failed', 'retention must be at least one day');
    }
    const today = dayStart(now);
    const days = Array.from({ length: aheadDays + 1 }, (_, i) => today + i * DAY_MS);
    try {
      const created = await createPartitions(this.client, days);
      const dropped = await dropPartitionsBefore(this.client, today - retentionDays * DAY_MS);
      this.knownDays = undefined;
      return { created, dropped };
    } catch (error) {
      throw toStoreError(error, 'partition maintenance');
    }
  }

  private async ensureDays(rows: readonly TelemetryRow[]): Promise<void> {
    this.knownDays ??= new Set(await listPartitionDays(this.client));
    const known = this.knownDays;
    const missing = new Set<number>();
    for (const row of rows) {
      const day = dayStart(row.ts);
      if (!known.has(day)) missing.add(day);
    }
    if (missing.size === 0) return;
    await createPartitions(this.client, missing);
    for (const day of missing) known.add(day);
  }

  /** A row's data as JSON text; a value the database must not see is refused here. */
  private serialise(row: TelemetryRow): string {
    if (nestsDeeperThan(row.data, this.maxDataDepth)) {
      throw new StoreError(
        'store_data_rejected',
        `insert telemetry: ${describeRow(row)}: data nested deeper than ${this.maxDataDepth} levels`,
      );
    }
    try {
      return JSON.stringify(row.data);
    } catch (error) {
      throw new StoreError(
        'store_data_rejected',
        `insert telemetry: ${describeRow(row)}: data cannot be serialised (${(error as Error).message})`,
        { cause: error },
      );
    }
  }

  private async insert(rows: readonly TelemetryRow[], data: string[]): Promise<number> {
    const { rows: result } = await this.client.query<{ inserted: number }>(INSERT_BATCH, [
      rows.map((r) => r.tenant),
      rows.map((r) => r.deviceId),
      rows.map((r) => iso(r.ts)),
      rows.map((r) => r.msgId),
      rows.map((r) => r.topic),
      data,
    ]);
    return result[0]?.inserted ?? 0;
  }

  /** The read queries: they may wait for the writes (QueryOptions.deferrable). */
  private async run<R>(what: string, text: string, params: unknown[]): Promise<{ rows: R[] }> {
    try {
      return await this.client.query<R>(text, params, { deferrable: true });
    } catch (error) {
      throw toStoreError(error, what);
    }
  }
}

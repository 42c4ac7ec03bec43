import type { SqlClient } from './sql-client.js';

export const DAY_MS = 86_400_000;

/** Serialises partition DDL between processes sharing a database. */
const PARTITION_LOCK = 0x466c_7074; // "Flpt"

const PARTITION_NAME = /^telemetry_p(\d{4})(\d{2})(\d{2})$/;

/** Start of the UTC day holding `ms`. */
export function dayStart(ms: number): number {
  return Math.floor(ms / DAY_MS) * DAY_MS;
}

/** `telemetry_pYYYYMMDD` for the UTC day starting at `day`. */
export function partitionName(day: number): string {
  return `telemetry_p${new Date(day).toISOString().slice(0, 10).replaceAll('-', '')}`;
}

/** The day a partition name covers, or undefined for a table that is not one of ours. */
export function partitionDay(name: string): number | undefined {
  const match = PARTITION_NAME.exec(name);
  if (!match) return undefined;
  return Date.UTC(Number(match[1]), Number(match[2]) - 1, Number(match[3]));
}

function literal(ms: number): string {
  // Built from a number we formatted, never from input: DDL takes no parameters.
  return `'${new Date(ms).toISOString()}'`;
}

/** The start days of the existing daily partitions, ascending. */
export async function listPartitionDays(client: SqlClient): Promise<number[]> {
  const { rows } = await client.query<{ name: string }>(
    `select c.relname as name from pg_inherits i
       join pg_class c on c.oid = i.inhrelid
      where i.inhparent = 'telemetry'::regclass`,
  );
  return rows
    .map((r) => partitionDay(r.name))
    .filter((day): day is number => day !== undefined)
    .sort((a, b) => a - b);
}

/** Creates the daily partitions of `days` that do not exist yet; returns those it created. */
export async function createPartitions(
  client: SqlClient,
  days: Iterable<number>,
): Promise<number[]> {
  const wanted = [...new Set([...days].map(dayStart))].sort((a, b) => a - b);
  if (wanted.length === 0) return [];
  return client.transaction(async (tx) => {
    await tx.query('select pg_advisory_xact_lock($1)', [PARTITION_LOCK]);
    const existing = new Set(await listPartitionDays(tx));
    const created: number[] = [];
    for (const day of wanted) {
      if (existing.has(day)) continue;
      await tx.exec(
        `create table ${partitionName(day)} partition of telemetry
           for values from (${literal(day)}) to (${literal(day + DAY_MS)})`,
      );
      created.push(day);
    }
    return created;
  });
}

/**
 * Drops every partition that ends at or before `cutoff` (whole days only) and forgets latest
 * values older than it; returns the dropped days.
 */
export async function dropPartitionsBefore(client: SqlClient, cutoff: number): Promise<number[]> {
  return client.transaction(async (tx) => {
    await tx.query('select pg_advisory_xact_lock($1)', [PARTITION_LOCK]);
    const dropped: number[] = [];
    for (const day of await listPartitionDays(tx)) {
      if (day + DAY_MS > cutoff) continue;
      await tx.exec(`drop table ${partitionName(day)}`);
      dropped.push(day);
    }
    await tx.query('delete from telemetry_latest where ts < $1', [new Date(cutoff).toISOString()]);
    return dropped;
  });
}

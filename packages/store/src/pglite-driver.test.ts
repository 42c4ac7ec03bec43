import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterEach, describe, expect, it } from 'vitest';

import { StoreError } from './errors.js';
import { migrate } from './migrate.js';
import { createPgliteClient } from './pglite-driver.js';
import type { SqlClient } from './sql-client.js';
import { nestedData } from './store-contract.js';
import type { TelemetryRow } from './telemetry-queries.js';
import { TelemetryStore } from './telemetry-store.js';

/**
 * JSON nested this deep overflows PGlite's WASM stack: the statement traps with "memory access
 * out of bounds" and the instance is unusable afterwards (measured with @electric-sql/pglite
 * 0.3: about 1,000 levels corrupt its memory, sometimes without failing the statement; 2,000 trap
 * at once). PostgreSQL itself would answer 54001 "stack depth limit exceeded".
 */
const TRAPPING_DEPTH = 2000;
const CRASH = 'select count(*)::int as n from unnest($1::jsonb[]) d';

function crashParams(): unknown[] {
  return [[JSON.stringify(nestedData(TRAPPING_DEPTH))]];
}

function row(msgId: string, data: Record<string, unknown> = { v: 1 }): TelemetryRow {
  return {
    tenant: 'crash',
    deviceId: 'd1',
    msgId,
    topic: 'devices/d1/telemetry',
    ts: Date.UTC(2024, 4, 1) + Number(msgId.replace(/\D/g, '') || 0),
    data,
  };
}

async function count(client: SqlClient): Promise<number> {
  const { rows } = await client.query<{ n: number }>(
    "select count(*)::int as n from telemetry where tenant = 'crash'",
  );
  return rows[0]!.n;
}

const dirs: string[] = [];
const clients: SqlClient[] = [];
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close().catch(() => undefined)));
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

async function open(where: 'memory' | 'dir'): Promise<{ client: SqlClient; dir?: string }> {
  const dir = where === 'dir' ? mkdtempSync(join(tmpdir(), 'fleetwire-pglite-')) : undefined;
  if (dir) dirs.push(dir);
  const client = await createPgliteClient(dir);
  clients.push(client);
  await migrate(client);
  return { client, ...(dir ? { dir } : {}) };
}

describe.each(['memory', 'dir'] as const)('PGlite (%s) after a WASM crash', (where) => {
  // A crash costs a reopen of the WASM instance (about half a second, more on a busy machine).
  it('the trapping statement fails as store_crashed; the reopened database has every committed row', async () => {
    const { client } = await open(where);
    const store = new TelemetryStore(client);
    expect(await store.insertBatch([row('m1'), row('m2')])).toBe(2);

    const crash = await client.query(CRASH, crashParams()).catch((e: unknown) => e);
    expect(crash).toBeInstanceOf(StoreError);
    expect(crash).toMatchObject({ code: 'store_crashed' });
    expect((crash as Error).message).toMatch(/memory access out of bounds/);

    // Not broken for good: the next statements run on a reopened instance.
    expect((await client.query<{ one: number }>('select 1 as one')).rows).toEqual([{ one: 1 }]);
    expect(client.healthy).toBe(true);
    expect(await count(client)).toBe(2);
    expect(await store.insertBatch([row('m3')])).toBe(1);
    expect(await count(client)).toBe(3);
  }, 60_000);

  it('statements queued behind the crash fail as transient store_unavailable, later ones succeed', async () => {
    const { client } = await open(where);
    const crash = client.query(CRASH, crashParams()).catch((e: unknown) => e);
    const queued = client.query('select 1 as one').catch((e: unknown) => e);
    expect(await crash).toMatchObject({ code: 'store_crashed' });
    const behind = await queued;
    expect(behind).toBeInstanceOf(StoreError);
    expect(behind).toMatchObject({ code: 'store_unavailable', transient: true });
    expect((await client.query<{ one: number }>('select 1 as one')).rows).toEqual([{ one: 1 }]);
  }, 60_000);

  it('a crash inside a transaction rolls it back and reopens too', async () => {
    const { client } = await open(where);
    const store = new TelemetryStore(client);
    await store.insertBatch([row('m1')]);
    const failed = await client
      .transaction(async (tx) => {
        await tx.query(
          "insert into telemetry_latest values ('crash', 'd9', 't', now(), 'x', '{}'::jsonb)",
        );
        await tx.query(CRASH, crashParams());
      })
      .catch((e: unknown) => e);
    expect(failed).toMatchObject({ code: 'store_crashed' });
    const { rows } = await client.query<{ n: number }>(
      "select count(*)::int as n from telemetry_latest where device_id = 'd9'",
    );
    expect(rows[0]!.n).toBe(0);
    expect(await count(client)).toBe(1);
  }, 60_000);
});

describe('PGlite crash and the store', () => {
  it('with the depth guard lifted, a thousands-deep row crashes PGlite: store_crashed, and the store goes on', async () => {
    const { client } = await open('memory');
    const unguarded = new TelemetryStore(client, { maxDataDepth: Number.POSITIVE_INFINITY });
    const error = await unguarded
      .insertBatch([row('m1'), row('m2', nestedData(TRAPPING_DEPTH))])
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'store_crashed' });
    expect(await unguarded.insertBatch([row('m1'), row('m3')])).toBe(2);
    expect(await count(client)).toBe(2);
  });

  it('a file-backed database reopened after a crash keeps its rows across a restart', async () => {
    const { client, dir } = await open('dir');
    const store = new TelemetryStore(client);
    await store.insertBatch([row('m1')]);
    await expect(client.query(CRASH, crashParams())).rejects.toMatchObject({
      code: 'store_crashed',
    });
    await store.insertBatch([row('m2')]);
    await client.close();
    clients.splice(clients.indexOf(client), 1);
    const again = await createPgliteClient(dir);
    clients.push(again);
    expect(await count(again)).toBe(2);
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { StoreError } from './errors.js';
import { migrate } from './migrate.js';
import { DAY_MS } from './partitions.js';
import type { SqlClient } from './sql-client.js';
import type { TelemetryRow } from './telemetry-queries.js';
import { MAX_DATA_DEPTH, TelemetryStore } from './telemetry-store.js';

/** A fresh, empty database behind a driver; `close` releases it. */
export interface TestDatabase {
  client: SqlClient;
  close(): Promise<void>;
}

const T0 = Date.UTC(2024, 2, 10, 0, 0, 0); // 2024-03-10, a day no other test here touches

function row(tenant: string, deviceId: string, ts: number, msgId: string, data = {}): TelemetryRow {
  return { tenant, deviceId, ts, msgId, topic: `devices/${deviceId}/telemetry`, data };
}

/** `{ a: [[…[]…]] }`: `depth` levels of nesting, the object itself counting as 1. */
export function nestedData(depth: number): Record<string, unknown> {
  let inner: unknown[] = [];
  for (let level = 2; level < depth; level += 1) inner = [inner];
  return { a: inner };
}

/**
 * The behaviour every driver must show, run against PGlite (unit) and PostgreSQL (integration).
 * Tenants isolate the tests from each other inside one database.
 */
export function describeStoreContract(driver: string, open: () => Promise<TestDatabase>): void {
  describe(`TelemetryStore on ${driver}`, () => {
    let db: TestDatabase;
    let store: TelemetryStore;
    let firstMigration: string[];

    async function count(tenant: string): Promise<number> {
      const { rows } = await db.client.query<{ n: number }>(
        'select count(*)::int as n from telemetry where tenant = $1',
        [tenant],
      );
      return rows[0]!.n;
    }

    beforeAll(async () => {
      db = await open();
      firstMigration = await migrate(db.client);
      store = new TelemetryStore(db.client);
    });
    afterAll(() => db?.close());

    it('applies each migration once and records it', async () => {
      expect(firstMigration).toEqual(['0001', '0002']);
      expect(await migrate(db.client)).toEqual([]);
      const { rows } = await db.client.query<{ version: string; name: string }>(
        'select version, name from schema_migrations order by version',
      );
      expect(rows).toEqual([
        { version: '0001', name: 'telemetry' },
        { version: '0002', name: 'device_state' },
      ]);
    });

    it('serialises concurrent migrators: each migration is applied exactly once', async () => {
      const fresh = await open();
      try {
        const results = await Promise.all([migrate(fresh.client), migrate(fresh.client)]);
        expect(results.flat()).toEqual(['0001', '0002']);
      } finally {
        await fresh.close();
      }
    });

    it('inserts a batch once: replays and overlaps insert only what is new', async () => {
      const rows = Array.from({ length: 900 }, (_, i) =>
        row('t-insert', `d${i % 7}`, T0 + (i % 3) * DAY_MS + i * 1000, `m${i}`, { i }),
      );
      expect(await store.insertBatch(rows)).toBe(900);
      expect(await store.insertBatch(rows)).toBe(0);
      const more = Array.from({ length: 100 }, (_, i) =>
        row('t-insert', 'd0', T0 + 5 * DAY_MS + i, `n${i}`),
      );
      expect(await store.insertBatch([...rows.slice(0, 300), ...more])).toBe(100);
      expect(await count('t-insert')).toBe(1000);
      // Partitions were made for every day the rows fell on, and nothing else was needed.
      const days = await store.partitionDays();
      for (const offset of [0, 1, 2, 5]) expect(days).toContain(T0 + offset * DAY_MS);
    });

    it('counts a message repeated inside one batch once', async () => {
      const one = row('t-dup', 'd', T0 + 5, 'same', { v: 1 });
      expect(await store.insertBatch([one, { ...one }, row('t-dup', 'd', T0 + 6, 'other')])).toBe(
        2,
      );
      expect(await count('t-dup')).toBe(2);
    });

    it('refuses a batch with a value PostgreSQL cannot store, as store_data_rejected', async () => {
      const bad = row('t-bad', 'd', T0, 'nul', { text: 'a\u0000b' });
      const error = await store.insertBatch([row('t-bad', 'd', T0, 'ok'), bad]).catch((e) => e);
      expect(error).toBeInstanceOf(StoreError);
      expect((error as StoreError).code).toBe('store_data_rejected');
      expect(await count('t-bad')).toBe(0);
    });

    it('refuses data nested deeper than the limit before sending anything, naming the row', async () => {
      const tenant = 't-deep';
      const deepest = row(tenant, 'd', T0 + 1, 'deepest-ok', nestedData(MAX_DATA_DEPTH));
      expect(await store.insertBatch([deepest])).toBe(1);
      const tooDeep = row(tenant, 'd', T0 + 2, 'too-deep', nestedData(MAX_DATA_DEPTH + 1));
      const error = await store
        .insertBatch([row(tenant, 'd', T0 + 3, 'fine'), tooDeep])
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(StoreError);
      expect(error).toMatchObject({
        code: 'store_data_rejected',
        message: `insert telemetry: ${tenant}/d msg too-deep: data nested deeper than ${MAX_DATA_DEPTH} levels`,
      });
      // The thousand levels that crash PGlite never reach it; the store still works.
      const crashing = row(tenant, 'd', T0 + 4, 'crashing', nestedData(1000));
      await expect(store.insertBatch([crashing])).rejects.toMatchObject({
        code: 'store_data_rejected',
      });
      expect(await store.insertBatch([row(tenant, 'd', T0 + 5, 'after')])).toBe(1);
      expect(await count(tenant)).toBe(2);
    });

    it('probes the write path without writing: resolves on a working store', async () => {
      const total = async () =>
        (await db.client.query<{ n: number }>('select count(*)::int as n from telemetry')).rows[0]!
          .n;
      const before = await total();
      await store.probeWrite();
      expect(await total()).toBe(before);
    });

    it('pages a device range by keyset, both orders, bounds [from, to), topic filter', async () => {
      const tenant = 't-range';
      const rows = Array.from({ length: 25 }, (_, i) =>
        // Pairs share a timestamp so msg_id breaks ties.
        row(tenant, 'dev', T0 + Math.floor(i / 2) * 60_000, `m${String(i).padStart(2, '0')}`, {
          i,
        }),
      );
      await store.insertBatch([
        ...rows,
        row(tenant, 'other-dev', T0 + 1000, 'x'),
        row('t-range-other', 'dev', T0 + 1000, 'y'),
        { ...row(tenant, 'dev', T0 + 2000, 'status'), topic: 'devices/dev/status' },
      ]);
      const base = {
        tenant,
        deviceId: 'dev',
        from: T0,
        to: T0 + DAY_MS,
        limit: 10,
        topic: 'devices/dev/telemetry',
      };

      const pages: string[][] = [];
      let after: { ts: number; msgId: string } | undefined;
      do {
        const page = await store.range({ ...base, ...(after ? { after } : {}) });
        pages.push(page.items.map((p) => p.msgId));
        after = page.next;
      } while (after);
      expect(pages.map((p) => p.length)).toEqual([10, 10, 5]);
      expect(pages.flat()).toEqual(rows.map((r) => r.msgId));

      const first = await store.range({ ...base, order: 'desc', limit: 3 });
      expect(first.items.map((p) => p.msgId)).toEqual(['m24', 'm23', 'm22']);
      const second = await store.range({ ...base, order: 'desc', limit: 3, after: first.next! });
      expect(second.items.map((p) => p.msgId)).toEqual(['m21', 'm20', 'm19']);

      const bounded = await store.range({ ...base, from: T0 + 60_000, to: T0 + 180_000 });
      expect(bounded.items.map((p) => p.msgId)).toEqual(['m02', 'm03', 'm04', 'm05']);
      expect(bounded.next).toBeUndefined();
      expect(bounded.items[0]).toEqual({
        deviceId: 'dev',
        topic: 'devices/dev/telemetry',
        ts: T0 + 60_000,
        msgId: 'm02',
        data: { i: 2 },
      });

      const all = await store.range({ ...base, topic: undefined, limit: 100 });
      expect(all.items).toHaveLength(26);
    });

    it('keeps the latest value per device and topic; old replays do not move it back', async () => {
      const tenant = 't-latest';
      await store.insertBatch([
        row(tenant, 'a', T0 + 1000, 'a1', { v: 1 }),
        row(tenant, 'a', T0 + 3000, 'a3', { v: 3 }),
        row(tenant, 'a', T0 + 2000, 'a2', { v: 2 }),
        row(tenant, 'b', T0 + 1000, 'b1', { v: 10 }),
        { ...row(tenant, 'b', T0 + 500, 'b-s'), topic: 'devices/b/status' },
        row('t-latest-other', 'a', T0 + 9000, 'z', { v: 99 }),
      ]);
      // Older than what is there: stored, but not the latest.
      await store.insertBatch([row(tenant, 'a', T0 + 2500, 'a25', { v: 25 })]);
      // Newer: becomes the latest.
      await store.insertBatch([row(tenant, 'b', T0 + 4000, 'b4', { v: 40 })]);

      const all = await store.latest({ tenant, limit: 10 });
      expect(all.items.map((p) => [p.deviceId, p.topic, p.msgId, p.data])).toEqual([
        ['a', 'devices/a/telemetry', 'a3', { v: 3 }],
        ['b', 'devices/b/status', 'b-s', {}],
        ['b', 'devices/b/telemetry', 'b4', { v: 40 }],
      ]);
      expect(all.items[0]!.ts).toBe(T0 + 3000);
      expect(all.next).toBeUndefined();

      const page1 = await store.latest({ tenant, limit: 2 });
      expect(page1.items.map((p) => p.msgId)).toEqual(['a3', 'b-s']);
      const page2 = await store.latest({ tenant, limit: 2, after: page1.next! });
      expect(page2.items.map((p) => p.msgId)).toEqual(['b4']);
      expect(page2.next).toBeUndefined();

      const onlyA = await store.latest({ tenant, deviceIds: ['a', 'nope'], limit: 10 });
      expect(onlyA.items.map((p) => p.msgId)).toEqual(['a3']);
    });

    it('down-samples a numeric field into epoch-aligned buckets with min/max/avg', async () => {
      const tenant = 't-buckets';
      const minute = 60_000;
      await store.insertBatch([
        row(tenant, 'd', T0 + 0, 'm0', { temp: 10, env: { hum: 40 } }),
        row(tenant, 'd', T0 + 20_000, 'm1', { temp: 20, env: { hum: 50 } }),
        row(tenant, 'd', T0 + 40_000, 'm2', { temp: 'n/a' }),
        row(tenant, 'd', T0 + minute + 1, 'm3', { temp: -5 }),
        row(tenant, 'd', T0 + 3 * minute, 'm4', { temp: 7.5 }),
        row(tenant, 'd', T0 + 3 * minute + 10, 'm5', { temp: 8.5 }),
        row(tenant, 'other', T0, 'o', { temp: 1000 }),
      ]);
      const query = { tenant, deviceId: 'd', from: T0, to: T0 + 10 * minute, bucketMs: minute };
      expect(await store.buckets({ ...query, field: ['temp'] })).toEqual([
        { start: T0, count: 2, min: 10, max: 20, avg: 15 },
        { start: T0 + minute, count: 1, min: -5, max: -5, avg: -5 },
        { start: T0 + 3 * minute, count: 2, min: 7.5, max: 8.5, avg: 8 },
      ]);
      expect(
        await store.buckets({ ...query, bucketMs: 5 * minute, field: ['env', 'hum'] }),
      ).toEqual([{ start: T0, count: 2, min: 40, max: 50, avg: 45 }]);
      expect(await store.buckets({ ...query, field: ['missing'] })).toEqual([]);
    });

    it('creates partitions ahead, drops expired ones with their rows, recreates on demand', async () => {
      const day = Date.UTC(2001, 0, 10);
      const tenant = 't-retention';
      const writer = new TelemetryStore(db.client);
      await writer.insertBatch([
        row(tenant, 'd', day - 3 * DAY_MS + 5, 'old'),
        row(tenant, 'd', day - DAY_MS + 5, 'kept'),
      ]);
      const result = await store.maintain(day + 3600_000, { aheadDays: 2, retentionDays: 2 });
      expect(result.created).toEqual([day, day + DAY_MS, day + 2 * DAY_MS]);
      expect(result.dropped).toEqual([day - 3 * DAY_MS]);
      const days = await store.partitionDays();
      expect(days).not.toContain(day - 3 * DAY_MS);
      for (const d of [day - DAY_MS, day, day + DAY_MS, day + 2 * DAY_MS])
        expect(days).toContain(d);
      const range = { tenant, deviceId: 'd', from: day - 5 * DAY_MS, to: day, limit: 10 };
      expect((await store.range(range)).items.map((p) => p.msgId)).toEqual(['kept']);

      // The writer still believes the dropped day exists; its insert must find out and recreate it.
      expect(await writer.insertBatch([row(tenant, 'd', day - 3 * DAY_MS + 9, 'late')])).toBe(1);
      expect((await store.range(range)).items.map((p) => p.msgId)).toEqual(['late', 'kept']);
    });
  });
}

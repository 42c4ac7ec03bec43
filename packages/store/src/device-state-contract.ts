import { ProtocolError, STATE_LIMITS } from '@fleetwire/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { SqlDeviceStateStore, StateVersionConflict } from './device-state-store.js';
import { migrate } from './migrate.js';
import type { TestDatabase } from './store-contract.js';

const T = Date.UTC(2025, 0, 2, 3, 4, 5);

/**
 * What every driver of the device state store must do, run on PGlite (unit) and PostgreSQL
 * (integration). Tenants keep the cases apart inside one database.
 */
export function describeDeviceStateContract(
  driver: string,
  open: () => Promise<TestDatabase>,
): void {
  describe(`DeviceStateStore on ${driver}`, () => {
    let db: TestDatabase;
    let store: SqlDeviceStateStore;

    beforeAll(async () => {
      db = await open();
      await migrate(db.client);
      store = new SqlDeviceStateStore(db.client);
      // PGlite takes seconds to start on a busy machine.
    }, 60_000);
    afterAll(() => db?.close());

    it('gives a device that never had state an empty document at version 0', async () => {
      expect(await store.get('t-empty', 'd')).toEqual({
        deviceId: 'd',
        version: 0,
        desired: {},
        reported: {},
        delta: {},
        metadata: { desired: {}, reported: {} },
      });
    });

    it('keeps desired and reported with per-key times; the delta closes when reported', async () => {
      const tenant = 't-loop';
      const set = await store.setDesired(
        tenant,
        'lamp',
        { led: true, target_temperature: 21.5 },
        { now: T },
      );
      expect(set).toMatchObject({
        version: 1,
        desired: { led: true, target_temperature: 21.5 },
        delta: { led: true, target_temperature: 21.5 },
        metadata: { desired: { led: T, target_temperature: T }, reported: {} },
      });
      const half = await store.report(tenant, 'lamp', { led: true, uptime: 5 }, { now: T + 1 });
      expect(half).toMatchObject({ version: 2, delta: { target_temperature: 21.5 } });
      const done = await store.report(tenant, 'lamp', { target_temperature: 21.5 }, { now: T + 2 });
      expect(done.delta).toEqual({});
      expect(done.metadata.reported).toEqual({
        led: T + 1,
        uptime: T + 1,
        target_temperature: T + 2,
      });
      // Durable: a fresh read gives the same document.
      expect(await store.get(tenant, 'lamp')).toEqual(done);
      // Object values compare by content, whatever order their keys come back in.
      await store.setDesired(tenant, 'lamp', {
        schedule: { on: '07:00', off: '23:00', days: [1, 2] },
      });
      const nested = await store.report(tenant, 'lamp', {
        schedule: { days: [1, 2], off: '23:00', on: '07:00' },
      });
      expect(nested.delta).toEqual({});
      // null removes a key.
      const removed = await store.setDesired(tenant, 'lamp', { target_temperature: null });
      expect(removed.desired).not.toHaveProperty('target_temperature');
      expect(removed.metadata.desired).not.toHaveProperty('target_temperature');
    });

    it('applies a patch at a stale version nowhere, and tenants never see each other', async () => {
      await store.setDesired('t-ver', 'd', { a: 1 });
      await expect(
        store.setDesired('t-ver', 'd', { a: 2 }, { expectedVersion: 0 }),
      ).rejects.toEqual(new StateVersionConflict(0, 1));
      expect((await store.setDesired('t-ver', 'd', { a: 3 }, { expectedVersion: 1 })).version).toBe(
        2,
      );
      expect((await store.get('t-ver', 'd')).desired).toEqual({ a: 3 });
      expect((await store.get('t-ver-other', 'd')).version).toBe(0);
    });

    it('of two concurrent patches at the same version, applies exactly one', async () => {
      await store.setDesired('t-race', 'd', { a: 0 });
      const results = await Promise.allSettled(
        [1, 2, 3, 4].map((a) => store.setDesired('t-race', 'd', { a }, { expectedVersion: 1 })),
      );
      const applied = results.filter((r) => r.status === 'fulfilled');
      const refused = results.filter(
        (r) => r.status === 'rejected' && r.reason instanceof StateVersionConflict,
      );
      expect([applied.length, refused.length]).toEqual([1, 3]);
      expect((await store.get('t-race', 'd')).version).toBe(2);
    });

    it('refuses a patch over the bounds (limit_exceeded) or with a bad key (bad_message) and keeps the document', async () => {
      const tenant = 't-bounds';
      await store.setDesired(tenant, 'd', { keep: 1 });
      const tooMany = Object.fromEntries(
        Array.from({ length: STATE_LIMITS.maxKeys + 1 }, (_, i) => [`k${i}`, i]),
      );
      const big = { blob: 'x'.repeat(STATE_LIMITS.maxBytes) };
      let deep: unknown = 1;
      for (let i = 0; i < STATE_LIMITS.maxDepth; i += 1) deep = [deep];
      for (const [patch, code] of [
        [tooMany, 'limit_exceeded'],
        [big, 'limit_exceeded'],
        [{ deep }, 'limit_exceeded'],
        // Not a size: a key that is no state key.
        [{ 'bad key': 1 }, 'bad_message'],
      ] as const) {
        const error = await store.setDesired(tenant, 'd', patch).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(ProtocolError);
        expect((error as ProtocolError).code).toBe(code);
      }
      // Many small patches cannot grow a section past the bound either.
      for (let i = 0; i < STATE_LIMITS.maxKeys - 1; i += 1)
        await store.report(tenant, 'd', { [`r${i}`]: i });
      await expect(store.report(tenant, 'd', { one: 1, more: 2 })).rejects.toBeInstanceOf(
        ProtocolError,
      );
      const doc = await store.get(tenant, 'd');
      expect(doc.desired).toEqual({ keep: 1 });
      expect(Object.keys(doc.reported)).toHaveLength(STATE_LIMITS.maxKeys - 1);
    });
  });
}

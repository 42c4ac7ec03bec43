import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import type { PresenceStore } from './presence.js';

export interface PresenceUnderTest {
  store: PresenceStore;
  ttlMs: number;
  close(): Promise<void>;
}

const d1 = { tenant: 'acme', deviceId: 'd1' };
const d2 = { tenant: 'acme', deviceId: 'd2' };

/**
 * What every PresenceStore must do. Time is passed in, so TTL expiry is tested without waiting,
 * except where Redis's own clock decides (a record's TTL); those cases use a short real TTL.
 */
export function presenceContract(name: string, open: () => Promise<PresenceUnderTest>): void {
  describe(`PresenceStore contract: ${name}`, () => {
    let subject: PresenceUnderTest;
    beforeEach(async () => {
      subject = await open();
    });
    afterEach(async () => {
      await subject.close();
    });

    it('online with node and connect time; offline with last seen', async () => {
      const { store } = subject;
      const now = Date.now();
      expect(await store.get(d1, now)).toEqual({ ...d1, online: false });
      await store.markOnline(d1, 'node-a', now);
      expect(await store.get(d1, now)).toEqual({
        ...d1,
        online: true,
        node: 'node-a',
        connectedAt: now,
        lastSeen: now,
      });
      await store.markOffline(d1, 'node-a', now + 5);
      expect(await store.get(d1, now + 5)).toEqual({ ...d1, online: false, lastSeen: now + 5 });
    });

    it('a stale node going offline does not unseat the node that took the device over', async () => {
      const { store } = subject;
      const now = Date.now();
      await store.markOnline(d1, 'node-a', now);
      await store.markOnline(d1, 'node-b', now + 1);
      await store.markOffline(d1, 'node-a', now + 2);
      expect(await store.get(d1, now + 2)).toMatchObject({ online: true, node: 'node-b' });
    });

    it('renewal reports devices another node took over, and restores records that vanished', async () => {
      const { store } = subject;
      const now = Date.now();
      await store.markOnline(d1, 'node-a', now);
      await store.markOnline(d2, 'node-a', now);
      await store.markOnline(d1, 'node-b', now + 1);
      expect(await store.renew([d1, d2], 'node-a', now + 2)).toEqual({ moved: [d1], restored: [] });
      expect(await store.get(d2, now + 2)).toMatchObject({
        online: true,
        node: 'node-a',
        connectedAt: now,
      });
      // The record vanished (as if reaped during an outage) while node-a still holds the device.
      await store.markOffline(d2, 'node-a', now + 3);
      expect(await store.renew([d2], 'node-a', now + 4)).toEqual({ moved: [], restored: [d2] });
      expect(await store.get(d2, now + 4)).toMatchObject({
        online: true,
        node: 'node-a',
        connectedAt: now + 4,
      });
    });

    it('a sub-device carries the gateway that last announced it, online and after; a direct connection clears it', async () => {
      const { store } = subject;
      const now = Date.now();
      await store.markOnline({ ...d1, gateway: 'gw-1' }, 'node-a', now);
      expect(await store.get(d1, now)).toMatchObject({ online: true, gateway: 'gw-1' });
      // Renewal keeps it, and a record that vanished comes back with it.
      await store.markOffline(d1, 'node-a', now + 1);
      expect(await store.get(d1, now + 1)).toEqual({
        ...d1,
        online: false,
        lastSeen: now + 1,
        gateway: 'gw-1',
      });
      expect(await store.renew([{ ...d1, gateway: 'gw-1' }], 'node-a', now + 2)).toEqual({
        moved: [],
        restored: [d1],
      });
      expect((await store.list('acme', now + 2)).map((r) => [r.deviceId, r.gateway])).toEqual([
        ['d1', 'gw-1'],
      ]);
      await store.markOnline(d1, 'node-b', now + 3);
      expect(await store.get(d1, now + 3)).not.toHaveProperty('gateway');
    });

    it('a dead node’s devices are reaped once, except those another node holds', async () => {
      const { store, ttlMs } = subject;
      const now = Date.now();
      await store.markOnline(d1, 'dead', now);
      await store.markOnline(d2, 'dead', now);
      await store.markOnline(d2, 'alive', now + 1);
      await store.renew([d2], 'alive', now + ttlMs);
      const later = now + ttlMs + 1;
      expect(await store.reapDeadNodes(later)).toEqual([d1]);
      expect(await store.reapDeadNodes(later)).toEqual([]);
      expect(await store.get(d1, later)).toMatchObject({ online: false });
      expect(await store.get(d2, later)).toMatchObject({ online: true, node: 'alive' });
    });

    it('node loads: the count of each node with a live heartbeat that reported one, dropped on leaving or reaping', async () => {
      const { store, ttlMs } = subject;
      const now = Date.now();
      expect(await store.nodeLoads(now)).toEqual([]);
      await store.renew([], 'node-b', now, 7);
      await store.renew([d1], 'node-a', now + 1, 120);
      // A node that renews without a count (draining, or an older version) takes no part.
      await store.renew([], 'node-c', now + 1);
      expect(await store.nodeLoads(now + 2)).toEqual([
        { node: 'node-a', connections: 120, at: now + 1 },
        { node: 'node-b', connections: 7, at: now },
      ]);
      await store.renew([], 'node-b', now + 3, 9);
      await store.renew([d1], 'node-a', now + 3);
      expect(await store.nodeLoads(now + 3)).toEqual([
        { node: 'node-b', connections: 9, at: now + 3 },
      ]);
      // A heartbeat older than the TTL is a dead node's: not listed, and gone once reaped.
      await store.renew([], 'node-a', now + ttlMs, 5);
      const later = now + 3 + ttlMs;
      expect(await store.nodeLoads(later)).toEqual([
        { node: 'node-a', connections: 5, at: now + ttlMs },
      ]);
      await store.reapDeadNodes(later);
      // Back with a heartbeat but no count yet: its old count was dropped with it.
      await store.markOnline(d2, 'node-b', later);
      expect(await store.nodeLoads(later)).toEqual([
        { node: 'node-a', connections: 5, at: now + ttlMs },
      ]);
    });
  });
}

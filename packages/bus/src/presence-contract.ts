import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import {
  byDeviceId,
  type HeldDevice,
  type PresenceLimits,
  type PresenceRecord,
  type PresenceStore,
} from './presence.js';

export interface PresenceUnderTest {
  store: PresenceStore;
  ttlMs: number;
  /**
   * Another instance on the same records, as a restarted process of a node would open (with
   * other limits, if given).
   */
  reopen(limits?: PresenceLimits): Promise<PresenceStore>;
  /** Loses every record and lease, as a Redis restart without persistence does. */
  flush(): Promise<void>;
  close(): Promise<void>;
}

const d1 = { tenant: 'acme', deviceId: 'd1' };
const d2 = { tenant: 'acme', deviceId: 'd2' };
const d3 = { tenant: 'other', deviceId: 'd3' };

/** Every device `listPage` answers, paging through (small pages), once each, sorted by id. */
export async function listAll(
  store: PresenceStore,
  tenant: string,
  now: number,
  limit = 2,
): Promise<PresenceRecord[]> {
  const records = new Map<string, PresenceRecord>();
  let cursor: string | undefined;
  do {
    const page = await store.listPage(tenant, now, { limit, ...(cursor ? { cursor } : {}) });
    for (const record of page.records) records.set(record.deviceId, record);
    cursor = page.next;
  } while (cursor !== undefined);
  return [...records.values()].sort(byDeviceId);
}

/** A device list that counts how often the store asked for it. */
function counted(devices: HeldDevice[]): { list: () => HeldDevice[]; reads: () => number } {
  let reads = 0;
  return {
    list: () => {
      reads += 1;
      return devices;
    },
    reads: () => reads,
  };
}

/**
 * What every PresenceStore must do. Time is passed in, so lease expiry is tested without
 * waiting.
 */
export function presenceContract(name: string, open: () => Promise<PresenceUnderTest>): void {
  describe(`PresenceStore contract: ${name}`, () => {
    let subject: PresenceUnderTest;
    const extra: PresenceStore[] = [];
    beforeEach(async () => {
      subject = await open();
    });
    afterEach(async () => {
      for (const store of extra.splice(0)) {
        await (store as { close?: () => Promise<void> }).close?.();
      }
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
      expect(await store.markOffline(d1, 'node-a', now + 5)).toBe(true);
      expect(await store.get(d1, now + 5)).toEqual({ ...d1, online: false, lastSeen: now + 5 });
      // No record names a node (lost with Redis, never written): not taken over, so offline.
      const unknown = { tenant: d1.tenant, deviceId: 'never-recorded' };
      expect(await store.markOffline(unknown, 'node-a', now + 6)).toBe(true);
      expect(await store.markOffline(d1, 'node-a', now + 7)).toBe(true);
    });

    it('a connect answers the node the record named before; owner names the node holding it', async () => {
      const { store } = subject;
      const now = Date.now();
      expect(await store.owner(d1)).toBeUndefined();
      expect(await store.markOnline(d1, 'node-a', now)).toEqual({});
      expect(await store.owner(d1)).toBe('node-a');
      // Reconnecting to the same node names no other.
      expect(await store.markOnline(d1, 'node-a', now + 1)).toEqual({});
      expect(await store.markOnline(d1, 'node-b', now + 2)).toEqual({ previous: 'node-a' });
      expect(await store.owner(d1)).toBe('node-b');
      await store.markOffline(d1, 'node-b', now + 3);
      expect(await store.owner(d1)).toBeUndefined();
      expect(await store.markOnline(d1, 'node-a', now + 4)).toEqual({});
    });

    it('a read made right after a write, before its answer, sees it (a takeover’s look-up relies on it)', async () => {
      const { store } = subject;
      const now = Date.now();
      const written = store.markOnline(d1, 'node-a', now);
      const owner = store.owner(d1);
      const record = store.get(d1, now);
      expect(await owner).toBe('node-a');
      expect(await record).toMatchObject({ online: true, node: 'node-a' });
      await written;
      const left = store.markOffline(d1, 'node-a', now + 1);
      expect(await store.owner(d1)).toBeUndefined();
      expect((await listAll(store, d1.tenant, now + 1)).filter((r) => r.online)).toEqual([]);
      await left;
    });

    it('a stale node going offline does not unseat the node that took the device over', async () => {
      const { store } = subject;
      const now = Date.now();
      await store.markOnline(d1, 'node-a', now);
      await store.markOnline(d1, 'node-b', now + 1);
      // Answered false: nothing changed, so the stale node announces no offline event.
      expect(await store.markOffline(d1, 'node-a', now + 2)).toBe(false);
      expect(await store.get(d1, now + 2)).toMatchObject({ online: true, node: 'node-b' });
    });

    it('online while the node’s lease lives: renewals move last seen, never touch the records', async () => {
      const { store, ttlMs } = subject;
      const now = Date.now();
      await store.markOnline(d1, 'node-a', now);
      const held = counted([d1]);
      await store.renew(held.list, 'node-a', now + 10);
      const reads = held.reads();
      for (let i = 1; i <= 5; i++) {
        expect(await store.renew(held.list, 'node-a', now + 10 + i * 100)).toEqual({
          moved: [],
          restored: [],
          released: [],
        });
      }
      // At rest a renewal is the lease alone: the device list is not even built.
      expect(held.reads()).toBe(reads);
      expect(await store.get(d1, now + 600)).toEqual({
        ...d1,
        online: true,
        node: 'node-a',
        connectedAt: now,
        lastSeen: now + 510,
      });
      // The lease expires one TTL after the last renewal: the device reads offline, last seen then.
      expect(await store.get(d1, now + 510 + ttlMs)).toEqual({
        ...d1,
        online: false,
        lastSeen: now + 510,
      });
    });

    it('a store instance’s first renewal writes its node’s devices again: moved and restored', async () => {
      const { store } = subject;
      const now = Date.now();
      await store.markOnline(d1, 'node-a', now);
      await store.markOnline(d2, 'node-a', now);
      await store.markOnline(d1, 'node-b', now + 1);
      // The record vanished (as if reaped during an outage) while node-a still holds the device.
      await store.markOffline(d2, 'node-a', now + 2);
      expect(await store.renew([d1, d2, d3], 'node-a', now + 3)).toEqual({
        moved: [d1],
        restored: [d2, d3],
        released: [],
      });
      expect(await store.get(d2, now + 3)).toMatchObject({
        online: true,
        node: 'node-a',
        connectedAt: now + 3,
      });
      expect(await store.get(d3, now + 3)).toMatchObject({ online: true, node: 'node-a' });
      expect(await store.get(d1, now + 3)).toMatchObject({ online: true, node: 'node-b' });
      // A process restarted under the same node id renews through a new instance: again once.
      const restarted = await subject.reopen();
      extra.push(restarted);
      await store.markOffline(d3, 'node-a', now + 4);
      expect(await restarted.renew([d2, d3], 'node-a', now + 5)).toEqual({
        moved: [],
        restored: [d3],
        released: [],
      });
      expect(await restarted.renew([d2, d3], 'node-a', now + 6)).toEqual({
        moved: [],
        restored: [],
        released: [],
      });
    });

    it('a process restarted under the same node id lets go of what its predecessor held: offline, reported', async () => {
      const { store } = subject;
      const now = Date.now();
      await store.markOnline(d1, 'node-a', now);
      await store.markOnline({ ...d2, gateway: 'gw-1' }, 'node-a', now);
      await store.markOnline(d3, 'node-a', now);
      await store.renew([d1, d2, d3], 'node-a', now + 1);
      // The process died; its successor holds d3 again (reconnected) and nothing else yet.
      const successor = await subject.reopen();
      extra.push(successor);
      const result = await successor.renew([d3], 'node-a', now + 2);
      expect({ ...result, released: result.released.sort(byDeviceId) }).toEqual({
        moved: [],
        restored: [],
        released: [d1, d2],
      });
      expect(await store.get(d2, now + 2)).toEqual({
        ...d2,
        online: false,
        lastSeen: now + 2,
        gateway: 'gw-1',
      });
      expect(await store.get(d3, now + 2)).toMatchObject({ online: true, node: 'node-a' });
      // Released once: the dead node's set no longer names them.
      expect(
        (await successor.reapDeadNodes(now + 2 + 10 * subject.ttlMs)).sort(byDeviceId),
      ).toEqual([{ ...d3, node: 'node-a' }]);
    });

    it('records lost with Redis come back at the next renewal, once, and are reaped again if the node dies', async () => {
      const { store, ttlMs } = subject;
      const now = Date.now();
      const held = counted([{ ...d1, gateway: 'gw-1' }, d2]);
      await store.markOnline({ ...d1, gateway: 'gw-1' }, 'node-a', now);
      await store.markOnline(d2, 'node-a', now);
      await store.renew(held.list, 'node-a', now + 1, 2);
      await subject.flush();
      expect(await store.get(d1, now + 2)).toEqual({ ...d1, online: false });
      expect(await store.nodeLoads(now + 2)).toEqual([]);
      expect(await store.renew(held.list, 'node-a', now + 3, 2)).toEqual({
        moved: [],
        restored: [d1, d2],
        released: [],
      });
      expect(await store.get(d1, now + 3)).toEqual({
        ...d1,
        online: true,
        node: 'node-a',
        connectedAt: now + 3,
        lastSeen: now + 3,
        gateway: 'gw-1',
      });
      expect(await store.nodeLoads(now + 3)).toEqual([
        { node: 'node-a', connections: 2, at: now + 3 },
      ]);
      const reads = held.reads();
      expect(await store.renew(held.list, 'node-a', now + 4, 2)).toEqual({
        moved: [],
        restored: [],
        released: [],
      });
      expect(held.reads()).toBe(reads);
      // The rewritten records name the node for the reaper too.
      expect((await store.reapDeadNodes(now + 4 + ttlMs)).sort(byDeviceId)).toEqual([
        { ...d1, node: 'node-a' },
        { ...d2, node: 'node-a' },
      ]);
    });

    it('a sub-device carries the gateway that last announced it, online and after; a direct connection clears it', async () => {
      const { store } = subject;
      const now = Date.now();
      await store.markOnline({ ...d1, gateway: 'gw-1' }, 'node-a', now);
      expect(await store.get(d1, now)).toMatchObject({ online: true, gateway: 'gw-1' });
      await store.markOffline(d1, 'node-a', now + 1);
      expect(await store.get(d1, now + 1)).toEqual({
        ...d1,
        online: false,
        lastSeen: now + 1,
        gateway: 'gw-1',
      });
      // A record written again (the node's first renewal here) keeps it.
      expect(await store.renew([{ ...d1, gateway: 'gw-1' }], 'node-a', now + 2)).toEqual({
        moved: [],
        restored: [d1],
        released: [],
      });
      expect((await listAll(store, 'acme', now + 2)).map((r) => [r.deviceId, r.gateway])).toEqual([
        ['d1', 'gw-1'],
      ]);
      await store.markOnline(d1, 'node-b', now + 3);
      expect(await store.get(d1, now + 3)).not.toHaveProperty('gateway');
    });

    it('list: every known device of the tenant, online or not, sorted by id', async () => {
      const { store } = subject;
      const now = Date.now();
      await store.markOnline(d2, 'node-a', now);
      await store.markOnline(d1, 'node-b', now);
      await store.markOnline(d3, 'node-a', now);
      await store.markOffline(d1, 'node-b', now + 1);
      expect(await listAll(store, 'acme', now + 1)).toEqual([
        { ...d1, online: false, lastSeen: now + 1 },
        { ...d2, online: true, node: 'node-a', connectedAt: now, lastSeen: now },
      ]);
      expect(await listAll(store, 'nobody', now + 1)).toEqual([]);
    });

    it('listPage: pages of about the limit, each sorted, reach every device of the tenant; a foreign cursor is refused', async () => {
      const { store } = subject;
      const now = Date.now();
      // Past 512 fields, where Redis stops answering a small hash whole in one step.
      const ids = Array.from({ length: 600 }, (_, i) => `dev-${String(i).padStart(3, '0')}`);
      await Promise.all(
        ids.map((deviceId) => store.markOnline({ tenant: 'acme', deviceId }, 'node-a', now)),
      );
      await store.markOnline(d3, 'node-a', now);
      const seen = new Set<string>();
      let pages = 0;
      let cursor: string | undefined;
      do {
        const page = await store.listPage('acme', now, {
          limit: 50,
          ...(cursor ? { cursor } : {}),
        });
        pages += 1;
        const pageIds = page.records.map((r) => r.deviceId);
        expect(pageIds).toEqual([...pageIds].sort());
        expect(page.records.every((r) => r.tenant === 'acme' && r.online)).toBe(true);
        for (const id of pageIds) seen.add(id);
        cursor = page.next;
      } while (cursor !== undefined && pages < 100);
      expect([...seen].sort()).toEqual(ids);
      expect(pages).toBeGreaterThanOrEqual(6);
      expect(pages).toBeLessThanOrEqual(60);
      // The last: a number past Redis's 64-bit cursors (Redis would answer an error).
      const huge = Buffer.from('99999999999999999999').toString('base64url');
      for (const cursor of ['', 'not a cursor', 'aaa', huge]) {
        await expect(store.listPage('acme', now, { limit: 50, cursor })).rejects.toMatchObject({
          code: 'BUS_INVALID_CURSOR',
        });
      }
      expect(await store.listPage('nobody', now, { limit: 50 })).toEqual({ records: [] });
    });

    it('a tenant at its device limit refuses a device new to it; known devices, other tenants and restores are not refused', async () => {
      const limited = await subject.reopen({ maxDevicesPerTenant: 2 });
      extra.push(limited);
      const now = Date.now();
      const d4 = { tenant: 'acme', deviceId: 'd4' };
      const d5 = { tenant: 'acme', deviceId: 'd5' };
      // One turn's connects go to Redis together: the limit is checked device by device.
      expect(
        await Promise.all([d1, d2, d4].map((d) => limited.markOnline(d, 'node-a', now))),
      ).toEqual([{}, {}, { refused: 'device_limit' }]);
      expect(await limited.get(d4, now)).toEqual({ ...d4, online: false });
      expect((await listAll(limited, 'acme', now)).map((r) => r.deviceId)).toEqual(['d1', 'd2']);
      // A known device comes back (here on another node, a takeover): never refused.
      expect(await limited.markOnline(d1, 'node-b', now + 1)).toEqual({ previous: 'node-a' });
      await limited.markOffline(d2, 'node-a', now + 2);
      expect(await limited.markOnline(d2, 'node-a', now + 3)).toEqual({});
      expect(await limited.markOnline(d3, 'node-a', now + 3)).toEqual({});
      // A node that holds a device whose record vanished writes it again, limit or not: the
      // device was let in when it connected.
      const restarted = await subject.reopen({ maxDevicesPerTenant: 2 });
      extra.push(restarted);
      expect(await restarted.renew([d2, d5], 'node-a', now + 4)).toEqual({
        moved: [],
        restored: [d5],
        released: [d3],
      });
      expect(await restarted.get(d5, now + 4)).toMatchObject({ online: true, node: 'node-a' });
    });

    it('forget: removes an offline device’s record, not one a node holds, and frees its place under the limit', async () => {
      const limited = await subject.reopen({ maxDevicesPerTenant: 1 });
      extra.push(limited);
      const now = Date.now();
      expect(await limited.forget(d1)).toBe('unknown');
      await limited.markOnline(d1, 'node-a', now);
      expect(await limited.forget(d1)).toBe('held');
      expect(await limited.markOnline(d2, 'node-a', now)).toEqual({ refused: 'device_limit' });
      await limited.markOffline(d1, 'node-a', now + 1);
      expect(await limited.forget(d1)).toBe('forgotten');
      expect(await limited.get(d1, now + 1)).toEqual({ ...d1, online: false });
      expect(await listAll(limited, 'acme', now + 1)).toEqual([]);
      expect(await limited.forget(d1)).toBe('unknown');
      expect(await limited.markOnline(d2, 'node-a', now + 2)).toEqual({});
    });

    it('a dead node’s devices are reaped once, except those another node holds; last seen is its last heartbeat', async () => {
      const { store, ttlMs } = subject;
      const now = Date.now();
      await store.markOnline(d1, 'dead', now);
      await store.markOnline(d2, 'dead', now);
      await store.renew([d1, d2], 'dead', now + 5);
      await store.markOnline(d2, 'alive', now + 6);
      await store.renew([d2], 'alive', now + ttlMs);
      const later = now + ttlMs + 6;
      expect(await store.reapDeadNodes(later)).toEqual([{ ...d1, node: 'dead' }]);
      expect(await store.reapDeadNodes(later)).toEqual([]);
      expect(await store.get(d1, later)).toEqual({ ...d1, online: false, lastSeen: now + 5 });
      expect(await store.get(d2, later)).toMatchObject({ online: true, node: 'alive' });
    });

    it('a node reaped while it stalled writes its devices again at its next renewal', async () => {
      const { store, ttlMs } = subject;
      const now = Date.now();
      await store.markOnline(d1, 'slow', now);
      await store.renew([d1], 'slow', now);
      await store.markOnline(d2, 'peer', now + ttlMs);
      await store.renew([d2], 'peer', now + ttlMs);
      expect(await store.reapDeadNodes(now + ttlMs)).toEqual([{ ...d1, node: 'slow' }]);
      expect(await store.renew([d1], 'slow', now + ttlMs + 1)).toEqual({
        moved: [],
        restored: [d1],
        released: [],
      });
      expect(await store.get(d1, now + ttlMs + 1)).toMatchObject({ online: true, node: 'slow' });
    });

    it('more than 1,024 live nodes: a device on the newest one still reads online in get and list', async () => {
      const { store } = subject;
      const now = Date.now();
      const nodes = Array.from({ length: 1_100 }, (_, i) => `node-${String(i).padStart(4, '0')}`);
      // Oldest heartbeat first: the newest node's lease sorts after the first 1,024.
      await Promise.all(nodes.map((node, i) => store.renew([], node, now + i)));
      const newest = nodes.at(-1)!;
      const later = now + nodes.length;
      await store.markOnline(d1, newest, later);
      await store.markOnline(d2, nodes[0]!, later);
      expect(await store.get(d1, later)).toEqual({
        ...d1,
        online: true,
        node: newest,
        connectedAt: later,
        lastSeen: later,
      });
      expect(
        (await listAll(store, 'acme', later)).map(({ deviceId, online, node }) => [
          deviceId,
          online,
          node,
        ]),
      ).toEqual([
        ['d1', true, newest],
        ['d2', true, nodes[0]],
      ]);
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

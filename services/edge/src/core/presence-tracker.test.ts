import { MemoryPresence, type PresenceStore } from '@fleetwire/bus';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';

import type { CommandRouter } from './commands.js';
import { DependencyFailures } from './dependency-failures.js';
import type { Fanout } from './fanout.js';
import { PresenceTracker } from './presence-tracker.js';

const TTL_MS = 30_000;
const DEVICE = { tenant: 'acme', deviceId: 'car-1' };

/**
 * A memory store whose `markOnline` is answered when the test says so, as a Redis client may
 * answer late (a command resent after it met a connection still opening).
 */
function lateOnlineStore(store = new MemoryPresence(TTL_MS)): {
  store: PresenceStore;
  answerOnline: () => void;
} {
  const held: (() => void)[] = [];
  const late: PresenceStore = {
    markOnline: (device, node, now) =>
      new Promise((resolve, reject) =>
        held.push(() => store.markOnline(device, node, now).then(resolve, reject)),
      ),
    markOffline: (device, node, now) => store.markOffline(device, node, now),
    renew: (devices, node, now, connections) => store.renew(devices, node, now, connections),
    nodeLoads: (now) => store.nodeLoads(now),
    get: (device, now) => store.get(device, now),
    owner: (device) => store.owner(device),
    listPage: (tenant, now, query) => store.listPage(tenant, now, query),
    forget: (device) => store.forget(device),
    reapDeadNodes: (now) => store.reapDeadNodes(now),
  };
  return { store: late, answerOnline: () => held.shift()?.() };
}

function tracker(store: PresenceStore, events: boolean[] = []): PresenceTracker {
  // Takeovers are not what is checked here: the record the store ends with, and the events, are.
  const fanout = {
    publish: (_tenant: string, message: { data: { online: boolean } }) =>
      void events.push(message.data.online),
  } as unknown as Fanout;
  const commands = { takeOver: () => undefined } as unknown as CommandRouter;
  const logger = pino({ level: 'silent' });
  const failures = new DependencyFailures(logger);
  return new PresenceTracker(store, 'node-1', TTL_MS, fanout, commands, failures, logger);
}

describe('PresenceTracker', () => {
  it("writes a device's record in the order it connected and left, whatever order the store answers in", async () => {
    const { store, answerOnline } = lateOnlineStore();
    const presence = tracker(store);
    const online = presence.online(DEVICE);
    presence.offline(DEVICE);
    answerOnline();
    await online;
    await expect.poll(async () => (await store.get(DEVICE, Date.now())).online).toBe(false);
  });

  it("publishes a device's events once their records are written, in the order of the writes", async () => {
    const { store, answerOnline } = lateOnlineStore();
    const events: boolean[] = [];
    const presence = tracker(store, events);
    const online = presence.online(DEVICE);
    presence.offline(DEVICE);
    await new Promise((resolve) => setImmediate(resolve));
    // The online record is not written yet: whoever heard the event could read the old record.
    expect(events).toEqual([]);
    answerOnline();
    await online;
    await presence.settled();
    expect(events).toEqual([true, false]);
    expect((await store.get(DEVICE, Date.now())).online).toBe(false);
  });

  it('a device refused at its tenant’s limit that left before the answer came gets no event at all', async () => {
    const full = new MemoryPresence(TTL_MS, { maxDevicesPerTenant: 1 });
    await full.markOnline({ tenant: DEVICE.tenant, deviceId: 'first' }, 'node-1', Date.now());
    const { store, answerOnline } = lateOnlineStore(full);
    const events: boolean[] = [];
    const presence = tracker(store, events);
    const online = presence.online(DEVICE);
    presence.offline(DEVICE);
    answerOnline();
    expect(await online).toBe(false);
    await presence.settled();
    expect(events).toEqual([]);
    expect(await store.get(DEVICE, Date.now())).toEqual({ ...DEVICE, online: false });
  });

  it('publishes no offline event when another node took the device over before it left here', async () => {
    const store = new MemoryPresence(TTL_MS);
    const events: boolean[] = [];
    const presence = tracker(store, events);
    await presence.online(DEVICE);
    await store.markOnline(DEVICE, 'node-2', Date.now());
    presence.offline(DEVICE);
    await presence.settled();
    expect(events).toEqual([true]);
    expect(await store.owner(DEVICE)).toBe('node-2');
  });
});

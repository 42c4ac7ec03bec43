import { LocalRedisCluster, waitFor } from '@fleetwire/testkit';
import { Cluster } from 'ioredis';
import { afterAll, beforeAll, expect, it } from 'vitest';

import { clusterNodes } from './cluster-nodes.js';
import { byDeviceId, type DeviceRef, type RenewResult } from './presence.js';
import { RedisPresence } from './redis-presence.js';

// A private cluster: this suite kills its masters.
let cluster: LocalRedisCluster;
let probe: Cluster;
beforeAll(async () => {
  cluster = await LocalRedisCluster.launch();
  probe = new Cluster(clusterNodes(cluster.addresses), { lazyConnect: true });
  await probe.connect();
});
afterAll(async () => {
  probe.disconnect();
  await cluster.dispose();
});

const TTL = 30_000;

/** The address of the master serving a hash tag's slot. */
async function ownerOf(tag: string): Promise<string> {
  const slot = Number(await probe.call('CLUSTER', 'KEYSLOT', `{${tag}}`));
  return (probe.slots[slot] as string[])[0] as string;
}

/** A tenant name whose records live on a master that `accept` takes. */
async function tenantOn(prefix: string, accept: (master: string) => boolean): Promise<string> {
  for (let i = 0; i < 1_000; i++) {
    if (accept(await ownerOf(`t:${prefix}${i}`))) return `${prefix}${i}`;
  }
  throw new Error('no such tenant name in 1,000 tries');
}

async function restart(address: string): Promise<void> {
  const master = cluster.nodes.find((node) => node.address === address)!;
  await master.kill();
  await master.start();
  await cluster.waitUntilOk();
}

/** Waits until the device's record is gone with its master (unknown, not merely offline). */
async function recordLost(store: RedisPresence, device: DeviceRef, at: number): Promise<void> {
  await waitFor('the record to read lost', async () => {
    const record = await store.get(device, at).catch(() => undefined);
    return record !== undefined && !record.online && record.lastSeen === undefined;
  });
}

/** Renews until `done` holds, through the errors of a master coming back; what they reported. */
async function renewUntil(
  store: RedisPresence,
  devices: DeviceRef[],
  node: string,
  from: number,
  done: (at: number) => Promise<boolean>,
): Promise<RenewResult & { at: number }> {
  const seen: RenewResult = { moved: [], restored: [], released: [] };
  let at = from;
  await waitFor(`${node}'s renewal to bring its records back`, async () => {
    at += 1;
    try {
      const result = await store.renew(devices, node, at);
      seen.moved.push(...result.moved);
      seen.restored.push(...result.restored);
      seen.released.push(...result.released);
      return await done(at);
    } catch {
      return false;
    }
  });
  return { ...seen, at };
}

it('a master holding some tenants’ records restarts without them while the leases live on: the next renewal writes them back, once, and a reap still finds them', async () => {
  const leases = await ownerOf('nodes');
  const lostTenant = await tenantOn('lost', (master) => master !== leases);
  const lostMaster = await ownerOf(`t:${lostTenant}`);
  const keptTenant = await tenantOn('kept', (master) => master !== lostMaster);
  const lost = { tenant: lostTenant, deviceId: 'd1' };
  const kept = { tenant: keptTenant, deviceId: 'd2' };
  const store = await RedisPresence.connect({ nodes: clusterNodes(cluster.addresses), ttlMs: TTL });
  try {
    const now = Date.now();
    await store.markOnline(lost, 'node-a', now);
    await store.markOnline(kept, 'node-a', now);
    await store.renew([lost, kept], 'node-a', now);

    await restart(lostMaster);
    await recordLost(store, lost, now + 1);
    // The lease did not move: only the master's run_id says the records are gone.
    const { restored, moved, released, at } = await renewUntil(
      store,
      [lost, kept],
      'node-a',
      now + 1,
      async (t) => (await store.get(lost, t)).online,
    );
    expect({ restored, moved, released }).toEqual({ restored: [lost], moved: [], released: [] });
    expect(await store.get(kept, at)).toMatchObject({ online: true, node: 'node-a' });
    expect(await store.renew([lost, kept], 'node-a', at + 1)).toEqual({
      moved: [],
      restored: [],
      released: [],
    });
    // The node dies: both come back from the reaper, whichever master holds their records.
    expect((await store.reapDeadNodes(at + 1 + TTL)).sort(byDeviceId)).toEqual([
      { ...lost, node: 'node-a' },
      { ...kept, node: 'node-a' },
    ]);
  } finally {
    await store.close();
  }
});

it('the master of the leases restarts without them: devices read offline until the next renewal, then online again with the node’s load', async () => {
  const leases = await ownerOf('nodes');
  const tenant = await tenantOn('elsewhere', (master) => master !== leases);
  const device = { tenant, deviceId: 'd1' };
  const store = await RedisPresence.connect({ nodes: clusterNodes(cluster.addresses), ttlMs: TTL });
  try {
    const now = Date.now();
    await store.markOnline(device, 'node-b', now);
    await store.renew([device], 'node-b', now, 1);

    await restart(leases);
    await waitFor('the lease to read lost', async () => {
      const loads = await store.nodeLoads(now + 1).catch(() => undefined);
      return loads !== undefined && loads.length === 0;
    });
    expect(await store.get(device, now + 1)).toEqual({ ...device, online: false, lastSeen: now });
    // The record survived on its own master: written again it is unchanged, so not "restored".
    const { restored, moved, released, at } = await renewUntil(
      store,
      [device],
      'node-b',
      now + 1,
      async (t) => (await store.get(device, t)).online,
    );
    expect({ restored, moved, released }).toEqual({ restored: [], moved: [], released: [] });
    expect(await store.nodeLoads(at)).toEqual([]);
    await store.renew([device], 'node-b', at + 1, 1);
    expect(await store.nodeLoads(at + 1)).toEqual([{ node: 'node-b', connections: 1, at: at + 1 }]);
  } finally {
    await store.close();
  }
});

it('a restart seen by a renewal that fails is still owed: the next renewal writes the records back', async () => {
  const leases = await ownerOf('nodes');
  const tenant = await tenantOn('failed', (master) => master !== leases);
  const lostMaster = await ownerOf(`t:${tenant}`);
  const device = { tenant, deviceId: 'd1' };
  const store = await RedisPresence.connect({ nodes: clusterNodes(cluster.addresses), ttlMs: TTL });
  try {
    const now = Date.now();
    await store.markOnline(device, 'node-c', now);
    await store.renew([device], 'node-c', now, 1);

    await restart(lostMaster);
    await recordLost(store, device, now + 1);
    // The renewal that sees the new run id fails (its load hash refused), the lease kept.
    await probe.set('fw:{nodes}:load', 'not a hash');
    await waitFor('a renewal to see the restart and fail', async () => {
      await expect(store.renew([device], 'node-c', now + 1, 1)).rejects.toThrow(/WRONGTYPE/);
      return true;
    });
    await probe.del('fw:{nodes}:load');
    expect(await store.renew([device], 'node-c', now + 2, 1)).toEqual({
      moved: [],
      restored: [device],
      released: [],
    });
    expect(await store.get(device, now + 2)).toMatchObject({ online: true, node: 'node-c' });
  } finally {
    await store.close();
  }
});

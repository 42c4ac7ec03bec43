import { testRedisCluster } from '@fleetwire/testkit';
import { Cluster } from 'ioredis';
import { expect, it } from 'vitest';

import { clusterNodes } from './cluster-nodes.js';
import { listAll, presenceContract } from './presence-contract.js';
import type { PresenceLimits } from './presence.js';
import { RedisPresence } from './redis-presence.js';

presenceContract('redis cluster', async () => {
  const cluster = await testRedisCluster();
  const open = (limits: PresenceLimits = {}) =>
    RedisPresence.connect({
      nodes: clusterNodes(cluster.nodes),
      prefix: cluster.keyPrefix,
      ttlMs: 30_000,
      ...limits,
    });
  const store = await open();
  return {
    store,
    ttlMs: 30_000,
    reopen: open,
    flush: () => deleteKeys(cluster.nodes, cluster.keyPrefix),
    close: async () => {
      await store.close();
      await cluster.close();
    },
  };
});

/** Deletes every key under the prefix on every master: what their restart without persistence leaves. */
async function deleteKeys(nodes: string[], prefix: string): Promise<void> {
  const client = new Cluster(clusterNodes(nodes), { lazyConnect: true });
  try {
    // Connected, the client knows the masters: before, it lists none.
    await client.connect();
    for (const master of client.nodes('master')) {
      let cursor = '0';
      do {
        const [next, keys] = await master.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500);
        // Each key on its own: a batch's keys live in several slots.
        await Promise.all(keys.map((key) => client.del(key)));
        cursor = next;
      } while (cursor !== '0');
    }
  } finally {
    client.disconnect();
  }
}

it('the contract’s keys spread over several masters: tenants, nodes and leases in slots of their own', async () => {
  const cluster = await testRedisCluster();
  const store = await RedisPresence.connect({
    nodes: clusterNodes(cluster.nodes),
    prefix: cluster.keyPrefix,
    ttlMs: 30_000,
  });
  const probe = new Cluster(clusterNodes(cluster.nodes), { lazyConnect: true });
  try {
    await probe.connect();
    const now = Date.now();
    for (const [tenant, node] of [
      ['acme', 'node-a'],
      ['other', 'node-b'],
      ['globex', 'node-c'],
    ] as const) {
      await store.markOnline({ tenant, deviceId: 'd1' }, node, now);
      await store.renew([{ tenant, deviceId: 'd1' }], node, now, 1);
    }
    const owners = new Set<string>();
    for (const master of probe.nodes('master')) {
      const keys = await master.keys(`${cluster.keyPrefix}*`);
      if (keys.length > 0) owners.add(`${master.options.host}:${master.options.port}`);
    }
    // A single-node client would have met MOVED on all but one of them.
    expect(owners.size).toBeGreaterThan(1);
    expect(
      (await listAll(store, 'other', now)).map(({ deviceId, online, node }) => [
        deviceId,
        online,
        node,
      ]),
    ).toEqual([['d1', true, 'node-b']]);
  } finally {
    probe.disconnect();
    await store.close();
    await cluster.close();
  }
});

import { TcpProxy, testRedisCluster, waitFor, type TestRedisCluster } from '@fleetwire/testkit';
import { Cluster } from 'ioredis';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';

import { clusterNodes } from './cluster-nodes.js';
import { RedisClusterBus } from './redis-cluster-bus.js';

// A master that stops answering without closing anything (packets dropped): only this node's
// own timeouts can notice. Each master is reached through a proxy (natMap), so one can be frozen.
const REPLY_TIMEOUT_MS = 400;

let redis: TestRedisCluster;
const proxies = new Map<string, TcpProxy>();
const closers: (() => Promise<unknown> | void)[] = [];

beforeAll(async () => {
  redis = await testRedisCluster();
  for (const address of redis.nodes) {
    const [host, port] = address.split(':') as [string, string];
    proxies.set(address, await TcpProxy.start(host, Number(port)));
  }
});
afterEach(async () => {
  await Promise.allSettled(closers.splice(0).map((close) => close()));
});
afterAll(async () => {
  await Promise.all([...proxies.values()].map((proxy) => proxy.close()));
  await redis.close();
});

function statusBecomes(bus: RedisClusterBus, ready: boolean): Promise<void> {
  return new Promise((resolve) => {
    if (bus.ready === ready) return resolve();
    bus.onStatus((now) => {
      if (now === ready) resolve();
    });
  });
}

/** A bus whose every master is reached through its proxy (natMap). */
async function proxiedBus(name: string): Promise<RedisClusterBus> {
  const bus = await RedisClusterBus.connect({
    nodes: [...proxies.values()].map((proxy) => ({ host: '127.0.0.1', port: proxy.port })),
    natMap: Object.fromEntries(
      [...proxies].map(([address, proxy]) => [address, { host: '127.0.0.1', port: proxy.port }]),
    ),
    nodeId: `${redis.keyPrefix}${name}`,
    prefix: redis.keyPrefix,
    replyTimeoutMs: REPLY_TIMEOUT_MS,
  });
  closers.push(() => bus.close());
  return bus;
}

/** A plain client, the master of a hash tag, and a tenant whose master is not the heartbeats'. */
async function topology(): Promise<{
  admin: Cluster;
  masterOf: (tag: string) => Promise<string>;
  tenant: string;
}> {
  const admin = new Cluster(clusterNodes(redis.nodes));
  closers.push(() => admin.disconnect());
  await admin.ping();
  const masterOf = async (tag: string): Promise<string> =>
    admin.slots[Number(await admin.cluster('KEYSLOT', `{${tag}}`))]?.[0] as string;
  const beats = await masterOf('nodes');
  for (let n = 0; ; n++) {
    const tenant = `s${process.pid}x${n}x${Date.now()}`;
    if ((await masterOf(tenant)) !== beats) return { admin, masterOf, tenant };
  }
}

it('close() takes a node out of a table whose last change (to no patterns) failed while its shard was away, then forgets its heartbeat', async () => {
  const bus = await proxiedBus('leaver');
  const { admin, masterOf, tenant } = await topology();
  const table = `${redis.keyPrefix}n:{${tenant}}`;
  await bus.addPattern(`${tenant}/rooms/#`);
  const proxy = proxies.get(await masterOf(tenant))!;
  proxy.freeze();
  await expect(bus.removePattern(`${tenant}/rooms/#`)).rejects.toThrow();
  const up = statusBecomes(bus, true);
  proxy.up();
  await up;
  // The entry the failed change left: nobody would reap it once the heartbeat is gone.
  expect(await admin.hget(table, bus.nodeId)).toBe(`${tenant}/rooms/#`);
  await bus.close();
  expect(await admin.hget(table, bus.nodeId)).toBeNull();
  expect(await admin.zscore(`${redis.keyPrefix}{nodes}:interest-beat`, bus.nodeId)).toBeNull();
}, 30_000);

it('a shard whose connections go silent makes the bus not ready though it has nothing to send (its subscriber is pinged), and it is back after', async () => {
  const natMap = Object.fromEntries(
    [...proxies].map(([address, proxy]) => [address, { host: '127.0.0.1', port: proxy.port }]),
  );
  const proxied = await RedisClusterBus.connect({
    nodes: [...proxies.values()].map((proxy) => ({ host: '127.0.0.1', port: proxy.port })),
    natMap,
    nodeId: `${redis.keyPrefix}proxied`,
    prefix: redis.keyPrefix,
    replyTimeoutMs: REPLY_TIMEOUT_MS,
  });
  closers.push(() => proxied.close());
  const direct = await RedisClusterBus.connect({
    nodes: clusterNodes(redis.nodes),
    nodeId: `${redis.keyPrefix}direct`,
    prefix: redis.keyPrefix,
  });
  closers.push(() => direct.close());
  const admin = new Cluster(clusterNodes(redis.nodes));
  closers.push(() => admin.disconnect());

  // The tenant's channel lives on one master; the heartbeats' key ({nodes}) on one too: freeze a
  // master that holds the tenant and not the heartbeats, so no command of ours waits on it.
  const slotOf = async (tag: string) => Number(await admin.cluster('KEYSLOT', `{${tag}}`));
  await admin.ping();
  const masterOf = (slot: number) => admin.slots[slot]?.[0] as string;
  const beats = masterOf(await slotOf('nodes'));
  let tenant = '';
  for (let n = 0; !tenant; n++) {
    const candidate = `s${process.pid}x${n}`;
    if (masterOf(await slotOf(candidate)) !== beats) tenant = candidate;
  }
  const received: string[] = [];
  proxied.onTopicMessage((topic) => received.push(topic));
  await proxied.addPattern(`${tenant}/#`);
  expect(proxied.ready).toBe(true);

  const proxy = proxies.get(masterOf(await slotOf(tenant)))!;
  const down = statusBecomes(proxied, false);
  proxy.freeze();
  await down;

  const up = statusBecomes(proxied, true);
  proxy.up();
  await up;
  await waitFor(
    'a message through the re-created subscriber',
    async () => {
      await direct.publish(`${tenant}/after`, Buffer.from('{}'));
      return received.includes(`${tenant}/after`);
    },
    10_000,
  );
}, 30_000);

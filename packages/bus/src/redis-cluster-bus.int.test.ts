import { testRedisCluster, type TestRedisCluster } from '@fleetwire/testkit';
import { Cluster } from 'ioredis';
import { afterAll, beforeAll, expect, it } from 'vitest';

import { busContract } from './bus-contract.js';
import { clusterNodes } from './cluster-nodes.js';
import { RedisClusterBus } from './redis-cluster-bus.js';

let redis: TestRedisCluster;
beforeAll(async () => {
  redis = await testRedisCluster();
});
afterAll(() => redis.close());

for (const interest of [true, false]) {
  busContract(
    `redis cluster (3 masters, interest-based publishing ${interest ? 'on' : 'off'})`,
    async () => {
      const nodes = await Promise.all(
        ['a', 'b', 'c'].map((id) =>
          RedisClusterBus.connect({
            nodes: clusterNodes(redis.nodes),
            nodeId: `${redis.keyPrefix}${id}`,
            prefix: redis.keyPrefix,
            interest,
          }),
        ),
      );
      const [a, b, c] = nodes as [RedisClusterBus, RedisClusterBus, RedisClusterBus];
      const probe = new Cluster(clusterNodes(redis.nodes));
      return {
        a,
        b,
        c,
        // Other suites share the cluster: count the subscribers of this suite's domain channels.
        brokerPatterns: async () => {
          let held = 0;
          for (const master of probe.nodes('master')) {
            const channels = (await master.call(
              'PUBSUB',
              'SHARDCHANNELS',
              `${redis.keyPrefix}t:*`,
            )) as string[];
            if (channels.length === 0) continue;
            const counts = (await master.call('PUBSUB', 'SHARDNUMSUB', ...channels)) as unknown[];
            for (let i = 1; i < counts.length; i += 2) held += Number(counts[i]);
          }
          return held;
        },
        close: async () => {
          probe.disconnect();
          await Promise.all(nodes.map((n) => n.close()));
        },
      };
    },
  );
}

// ioredis groups auto-pipelined commands by the node of their first argument; for a script with a
// variable key count that is the count (a number), not a key, so an append could share a pipeline
// with another master's commands ("All keys in the pipeline should belong to the same slots
// allocation group") or reach the wrong master and be redirected ~100 ms late, behind later ones.
it('an append whose key count hashes to another master shares no pipeline with that master', async () => {
  const probe = new Cluster(clusterNodes(redis.nodes), { lazyConnect: true });
  await probe.connect();
  const bus = await RedisClusterBus.connect({
    nodes: clusterNodes(redis.nodes),
    nodeId: `${redis.keyPrefix}pipe`,
    prefix: redis.keyPrefix,
    interest: false,
  });
  try {
    const masterOf = async (key: string): Promise<string> => {
      const slot = Number(await probe.call('CLUSTER', 'KEYSLOT', key));
      return (probe.slots[slot] as string[])[0] as string;
    };
    const tenant = 'pipe';
    const tenantMaster = await masterOf(`{${tenant}}`);
    // A batch size whose key count (clock, index, one stream per message) is on another master,
    // and a tenant living on that master.
    let size = 1;
    while ((await masterOf(String(2 + size))) === tenantMaster) size += 1;
    const countMaster = await masterOf(String(2 + size));
    let other = 0;
    while ((await masterOf(`{other${other}}`)) !== countMaster) other += 1;
    const retention = { maxCount: 10, maxAgeMs: 60_000, horizonMs: 60_000 };
    const batch = Array.from({ length: size }, (_, i) => ({
      topic: `${tenant}/devices/d${i}/telemetry`,
      payload: Buffer.from(`m${i}`),
      retention,
    }));
    const [positions] = await Promise.all([
      bus.append(batch),
      bus.append([
        { topic: `other${other}/devices/x/telemetry`, payload: Buffer.from('x'), retention },
      ]),
    ]);
    expect(positions).toHaveLength(size);
  } finally {
    probe.disconnect();
    await bus.close();
  }
});

import { testRedisCluster, type TestRedisCluster } from '@fleetwire/testkit';
import { Cluster } from 'ioredis';
import { afterAll, beforeAll } from 'vitest';

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

import { testRedis, type TestRedis } from '@fleetwire/testkit';
import { Redis } from 'ioredis';
import { afterAll, beforeAll } from 'vitest';

import { busContract } from './bus-contract.js';
import { RedisBus } from './redis-bus.js';
import { brokerPatternCount } from './redis-test-support.js';

let redis: TestRedis;
beforeAll(async () => {
  redis = await testRedis();
});
afterAll(() => redis.close());

busContract('redis', async () => {
  // Node ids carry the suite's prefix: the subscriber connections are named after them.
  const nodes = await Promise.all(
    ['a', 'b', 'c'].map((id) =>
      RedisBus.connect({
        url: redis.url,
        nodeId: `${redis.keyPrefix}${id}`,
        prefix: redis.keyPrefix,
      }),
    ),
  );
  const [a, b, c] = nodes as [RedisBus, RedisBus, RedisBus];
  const probe = new Redis(redis.url);
  return {
    a,
    b,
    c,
    // Other suites share this Redis: count only the pattern subscriptions of these three nodes.
    brokerPatterns: () => brokerPatternCount(probe, redis.keyPrefix),
    close: async () => {
      probe.disconnect();
      await Promise.all(nodes.map((n) => n.close()));
    },
  };
});

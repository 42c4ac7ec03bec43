import { testRedis, type TestRedis } from '@fleetwire/testkit';
import { afterAll, beforeAll } from 'vitest';

import { busContract } from './bus-contract.js';
import { RedisBus } from './redis-bus.js';

let redis: TestRedis;
beforeAll(async () => {
  redis = await testRedis();
});
afterAll(() => redis.close());

busContract('redis', async () => {
  const nodes = await Promise.all(
    ['a', 'b', 'c'].map((id) =>
      RedisBus.connect({ url: redis.url, nodeId: id, prefix: redis.keyPrefix }),
    ),
  );
  const [a, b, c] = nodes as [RedisBus, RedisBus, RedisBus];
  return { a, b, c, close: async () => void (await Promise.all(nodes.map((n) => n.close()))) };
});

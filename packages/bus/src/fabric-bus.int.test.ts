import { testRedis, type TestRedis } from '@fleetwire/testkit';
import { Redis } from 'ioredis';
import { afterAll, beforeAll } from 'vitest';

import { busContract } from './bus-contract.js';
import { FabricBus } from './fabric-bus.js';
import { LocalFabric } from './local-fabric.js';
import { RedisBus } from './redis-bus.js';
import { brokerPatternCount } from './redis-test-support.js';

let redis: TestRedis;
beforeAll(async () => {
  redis = await testRedis();
});
afterAll(() => redis.close());

// a and b: two workers of one process; c: a worker of another; each process one Redis bus.
busContract('fabric over redis', async () => {
  const drivers = await Promise.all(
    ['process-a', 'process-b'].map((id) =>
      RedisBus.connect({
        url: redis.url,
        nodeId: `${redis.keyPrefix}${id}`,
        prefix: redis.keyPrefix,
      }),
    ),
  );
  const [fabricA, fabricB] = drivers.map((driver) => new LocalFabric(driver)) as [
    LocalFabric,
    LocalFabric,
  ];
  const [a, b, c] = await Promise.all([
    FabricBus.connect(fabricA.attach(), 'a'),
    FabricBus.connect(fabricA.attach(), 'b'),
    FabricBus.connect(fabricB.attach(), 'c'),
  ]);
  const probe = new Redis(redis.url);
  return {
    a,
    b,
    c,
    brokerPatterns: () => brokerPatternCount(probe, redis.keyPrefix),
    close: async () => {
      probe.disconnect();
      await Promise.all([a, b, c].map((n) => n.close()));
      fabricA.close();
      fabricB.close();
      await Promise.all(drivers.map((n) => n.close()));
    },
  };
});

import { testRedis } from '@fleetwire/testkit';
import { Redis } from 'ioredis';
import { expect, it } from 'vitest';

import { presenceContract } from './presence-contract.js';
import { RedisPresence } from './redis-presence.js';

presenceContract('redis', async () => {
  const redis = await testRedis();
  const store = await RedisPresence.connect({
    url: redis.url,
    prefix: redis.keyPrefix,
    ttlMs: 30_000,
  });
  return {
    store,
    ttlMs: 30_000,
    close: async () => {
      await store.close();
      await redis.close();
    },
  };
});

it('node loads another Redis user wrote as garbage are left out, never passed on', async () => {
  const redis = await testRedis();
  const store = await RedisPresence.connect({
    url: redis.url,
    prefix: redis.keyPrefix,
    ttlMs: 30_000,
  });
  const rogue = new Redis(redis.url);
  try {
    const now = Date.now();
    await store.renew([], 'honest', now, 12);
    const garbage = ['abc', '-5', '1e9', '12.5', ' 7', '0x10', '9999999999', 'x'.repeat(100_000)];
    for (const [i, value] of garbage.entries()) {
      await rogue.zadd(`${redis.keyPrefix}nodes`, now, `rogue-${i}`);
      await rogue.hset(`${redis.keyPrefix}load`, `rogue-${i}`, value);
    }
    expect(await store.nodeLoads(now + 1)).toEqual([{ node: 'honest', connections: 12, at: now }]);
  } finally {
    rogue.disconnect();
    await store.close();
    await redis.close();
  }
});

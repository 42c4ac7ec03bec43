import { testRedis } from '@fleetwire/testkit';

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

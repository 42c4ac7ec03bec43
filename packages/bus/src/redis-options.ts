import type { RedisOptions } from 'ioredis';

/**
 * What every Redis connection of the bus and presence drivers shares: connect explicitly, and
 * reconnect for ever with capped exponential delays (100 ms doubling to 2 s), so a Redis restart
 * costs seconds, not a process restart.
 */
export const REDIS_CONNECTION_DEFAULTS: RedisOptions = {
  lazyConnect: true,
  retryStrategy: (attempt) => Math.min(100 * 2 ** attempt, 2_000),
};

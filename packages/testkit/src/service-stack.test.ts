import { describe, expect, it } from 'vitest';

import { startServiceStack } from './service-stack.js';

// Only the rejections are unit-tested: anything accepted would start real services.
describe('startServiceStack rejects a bad environment before starting anything', () => {
  it.each([
    [{ REDIS_URL: 'not a url' }, /REDIS_URL is not a URL/],
    [{ REDIS_URL: 'http://localhost:6379' }, /REDIS_URL must use redis: or rediss:/],
    [{ DATABASE_URL: 'mysql://x@localhost/db' }, /DATABASE_URL must use postgres:/],
    [
      { KAFKA_BROKERS: 'localhost:9092,broker-without-port' },
      /"broker-without-port" is not host:port/,
    ],
    [{ REDIS_CLUSTER_NODES: '127.0.0.1:7000,127.0.0.1' }, /"127.0.0.1" is not host:port/],
    [{ FLEETWIRE_TEST_SERVICES: 'docker' }, /must be auto, containers or local, not "docker"/],
  ])('%j', async (env, message) => {
    await expect(startServiceStack(env)).rejects.toMatchObject({
      code: 'TESTKIT_BAD_ENV',
      message: expect.stringMatching(message),
    });
  });
});

import { LocalRedis, testRedis, type TestRedis } from '@fleetwire/testkit';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, expect, it } from 'vitest';

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

it('a history read over its byte bound is refused without Redis loading the stream first', async () => {
  // A server of its own: its peak memory is this test's alone.
  const local = await LocalRedis.launch();
  const bus = await RedisBus.connect({ url: local.url, nodeId: 'reader', prefix: 'peak:' });
  const probe = new Redis(local.url);
  const memory = async (field: string) =>
    Number(new RegExp(`^${field}:(\\d+)`, 'm').exec(await probe.info('memory'))?.[1]);
  try {
    const retention = { maxAgeMs: 60_000, maxCount: 10_000, horizonMs: 60_000 };
    const payload = Buffer.alloc(16 * 1024, 'x');
    const [start] = await bus.append([{ topic: 'acme/big/t', payload, retention }]);
    // 3,000 × 16 KiB: ~48 MB in one stream.
    for (let i = 0; i < 30; i++) {
      await bus.append(
        Array.from({ length: 100 }, () => ({ topic: 'acme/big/t', payload, retention })),
      );
    }
    const before = Math.max(await memory('used_memory_peak'), await memory('used_memory'));
    const read = await bus.readHistory({
      pattern: 'acme/big/#',
      after: start!,
      maxAgeMs: 60_000,
      maxMessages: 10_000,
      maxBytes: 512 * 1024,
      maxStreams: 10,
    });
    expect(read).toMatchObject({ ok: false, reason: 'too_many' });
    // Reading the whole range before checking took the stream's size again (~48 MB); paged, a
    // read holds at most its byte bound and one page (64 entries, ~1 MB) more.
    expect((await memory('used_memory_peak')) - before).toBeLessThan(8 * 1024 * 1024);
  } finally {
    probe.disconnect();
    await bus.close();
    await local.dispose();
  }
});

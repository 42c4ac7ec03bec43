import { RedisBus, RedisPresence } from '@fleetwire/bus';
import { testRedis, type TestRedis } from '@fleetwire/testkit';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

import { inbox, type InboxMessage } from './core/node-messages.js';
import { inboxReader, routingScenarios } from './routing-scenarios.js';
import { startRedisEdge, TestClientPool, type RedisTestEdge } from './test-support.js';

const clients = new TestClientPool();
const { connect } = clients;
let redis: TestRedis;
let presence: RedisPresence;
let peer: RedisBus;
let peerInbox: () => Promise<InboxMessage>;
let a: RedisTestEdge;
let b: RedisTestEdge;
let c: RedisTestEdge;

/** Every key of this suite gone: what a Redis restart without persistence leaves. */
async function flush(): Promise<void> {
  const client = new Redis(redis.url);
  try {
    let cursor = '0';
    do {
      const [next, keys] = await client.scan(cursor, 'MATCH', `${redis.keyPrefix}*`, 'COUNT', 500);
      if (keys.length > 0) await client.del(...keys);
      cursor = next;
    } while (cursor !== '0');
  } finally {
    client.disconnect();
  }
}

describe('commands routed through presence, three nodes over Redis', () => {
  beforeAll(async () => {
    redis = await testRedis();
    const options = { redisUrl: redis.url, prefix: redis.keyPrefix };
    presence = await RedisPresence.connect({
      url: redis.url,
      prefix: redis.keyPrefix,
      ttlMs: 30_000,
    });
    peer = await RedisBus.connect({ url: redis.url, nodeId: 'node-s', prefix: redis.keyPrefix });
    peerInbox = inboxReader(peer);
    await peer.listen(inbox.node('node-s'));
    a = await startRedisEdge({ name: 'node-a', ...options });
    b = await startRedisEdge({ name: 'node-b', ...options });
    c = await startRedisEdge({ name: 'node-c', ...options });
  });
  afterEach(() => clients.terminateAll());
  afterAll(async () => {
    for (const edge of [a, b, c]) await edge?.closeAll();
    await peer?.close();
    await presence?.close();
    await redis?.close();
  });

  routingScenarios(() => ({ a, b, c, presence, peer, peerInbox, connect }));

  it('one inbox per node: devices connecting subscribe to nothing more in Redis', async () => {
    const held = a.bus.holdings().inboxes;
    const devices = await Promise.all(
      Array.from({ length: 20 }, (_, i) => connect(a, { sub: `many-${i}`, role: 'device' })),
    );
    expect(devices).toHaveLength(20);
    expect(a.bus.holdings().inboxes).toBe(held);
    const client = new Redis(redis.url);
    try {
      expect(await client.pubsub('CHANNELS', `${redis.keyPrefix}i:dev:*`)).toEqual([]);
    } finally {
      client.disconnect();
    }
  });

  it('Redis flushed: the next renewal writes the node’s devices back once and says they are online; commands reach them again', async () => {
    const watcher = await connect(b, { sub: 'ops', role: 'dashboard' });
    watcher.send({ type: 'subscribe', id: 's', topics: ['devices/flushed/presence'] });
    await watcher.next();
    const device = await connect(a, { sub: 'flushed', role: 'device' });
    expect(await watcher.next()).toMatchObject({ data: { online: true, node: 'node-a' } });
    await a.server.presenceTracker.tick();
    await flush();
    const dashboard = await connect(b, { sub: 'ops', role: 'dashboard' });
    // The record is gone: nobody is known to hold the device until node-a writes it again.
    dashboard.send({ type: 'command', id: 'f1', target: 'flushed', name: 'x' });
    expect(await dashboard.next()).toEqual({ type: 'nack', id: 'f1', reason: 'offline' });
    await a.server.presenceTracker.tick();
    expect(await watcher.next()).toMatchObject({ data: { online: true, node: 'node-a' } });
    dashboard.send({ type: 'command', id: 'f2', target: 'flushed', name: 'x' });
    expect(await device.next()).toMatchObject({ type: 'command', id: 'f2' });
    device.send({ type: 'ack', id: 'f2' });
    expect(await dashboard.next()).toEqual({ type: 'ack', id: 'f2' });
    // Once: the next renewal finds its lease and writes nothing back.
    await a.server.presenceTracker.tick();
    expect(await watcher.roundTrip()).toEqual([]);
  });
});

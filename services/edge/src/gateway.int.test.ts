import { testRedis, type TestRedis } from '@fleetwire/testkit';
import { afterAll, afterEach, beforeAll, describe } from 'vitest';

import { gatewayScenarios } from './gateway-scenarios.js';
import { TestClient, mintToken, type TestEdge, startRedisEdge } from './test-support.js';

const TTL_MS = 30_000;
const clients: TestClient[] = [];
const closers: (() => Promise<void> | void)[] = [];

async function connect(
  edge: TestEdge,
  claims: Parameters<typeof mintToken>[0],
  format: 'json' | 'msgpack' = 'json',
) {
  const client = await TestClient.open(edge.url, mintToken(claims), { format });
  clients.push(client);
  return client;
}

async function node(name: string, redis: TestRedis): Promise<TestEdge> {
  const edge = await startRedisEdge({
    name,
    redisUrl: redis.url,
    prefix: redis.keyPrefix,
    presenceTtlMs: TTL_MS,
    limits: { commandTimeoutMs: 2_000 },
  });
  closers.push(edge.closeAll);
  return edge;
}

describe('gateways across edge nodes over Redis', () => {
  let a: TestEdge;
  let b: TestEdge;
  let c: TestEdge;
  beforeAll(async () => {
    const redis = await testRedis();
    closers.push(() => redis.close());
    a = await node('node-a', redis);
    b = await node('node-b', redis);
    c = await node('node-c', redis);
  });
  afterEach(() => {
    for (const client of clients.splice(0)) client.ws.terminate();
  });
  afterAll(async () => {
    for (const close of closers.splice(0).reverse()) await close();
  });

  gatewayScenarios(() => ({ a, b, c, ttlMs: TTL_MS, connect }));
});

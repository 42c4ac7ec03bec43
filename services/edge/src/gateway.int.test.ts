import { testRedis, type TestRedis } from '@fleetwire/testkit';
import { afterAll, afterEach, beforeAll, describe } from 'vitest';

import { gatewayScenarios } from './gateway-scenarios.js';
import { type TestEdge, startRedisEdge, TestClientPool } from './test-support.js';

const TTL_MS = 30_000;
const clients = new TestClientPool();
const { connect } = clients;
const closers: (() => Promise<void> | void)[] = [];

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
    clients.terminateAll();
  });
  afterAll(async () => {
    for (const close of closers.splice(0).reverse()) await close();
  });

  gatewayScenarios(() => ({ a, b, c, ttlMs: TTL_MS, connect }));
});

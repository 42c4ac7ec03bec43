import { RedisClusterBus, RedisPresence, clusterNodes } from '@fleetwire/bus';
import {
  testRedis,
  testRedisCluster,
  type TestRedis,
  type TestRedisCluster,
} from '@fleetwire/testkit';
import { afterAll, afterEach, beforeAll, describe } from 'vitest';

import { clusterScenarios } from './cluster-scenarios.js';
import { HISTORY_NODE_ENV, HISTORY_NODE_LIMITS, historyScenarios } from './history-scenarios.js';
import {
  startTestEdge,
  TestClientPool,
  type TestEdge,
  type TestEdgeOptions,
} from './test-support.js';

const clients = new TestClientPool();
const { connect } = clients;
const closers: (() => Promise<void> | void)[] = [];

/**
 * An edge node whose bus is on the 3-master Redis Cluster (sharded pub/sub, interest-based
 * publishing) and whose presence is on a single Redis, as FLEETWIRE_REDIS_CLUSTER_NODES with
 * FLEETWIRE_REDIS_URL configure it until presence runs on the cluster.
 */
async function node(
  name: string,
  cluster: TestRedisCluster,
  redis: TestRedis,
  options: Omit<TestEdgeOptions, 'bus' | 'presence'>,
): Promise<TestEdge> {
  const bus = await RedisClusterBus.connect({
    nodes: clusterNodes(cluster.nodes),
    nodeId: name,
    prefix: cluster.keyPrefix,
  });
  const presence = await RedisPresence.connect({
    url: redis.url,
    prefix: redis.keyPrefix,
    ttlMs: 30_000,
  });
  const edge = await startTestEdge({
    ...options,
    env: { FLEETWIRE_NODE_ID: name, ...options.env },
    bus,
    presence,
  });
  closers.push(async () => {
    edge.close();
    await bus.close();
    await presence.close();
  });
  return edge;
}

async function environment(): Promise<{ cluster: TestRedisCluster; redis: TestRedis }> {
  const [cluster, redis] = await Promise.all([testRedisCluster(), testRedis()]);
  closers.push(
    () => cluster.close(),
    () => redis.close(),
  );
  return { cluster, redis };
}

afterEach(() => {
  clients.terminateAll();
});

afterAll(async () => {
  for (const close of closers.splice(0)) await close();
});

describe('two edge nodes over a Redis Cluster (bus) and Redis (presence)', () => {
  let a: TestEdge;
  let b: TestEdge;
  beforeAll(async () => {
    const { cluster, redis } = await environment();
    const limits = { commandTimeoutMs: 500, ratePerSec: 10_000, rateBurst: 10_000 };
    a = await node('node-a', cluster, redis, { limits });
    b = await node('node-b', cluster, redis, { limits });
  });

  clusterScenarios(() => ({ a, b, connect }));
});

describe('history over a Redis Cluster, two nodes', () => {
  let a: TestEdge;
  let b: TestEdge;
  beforeAll(async () => {
    const { cluster, redis } = await environment();
    const options = { env: HISTORY_NODE_ENV, limits: HISTORY_NODE_LIMITS };
    a = await node('node-a', cluster, redis, options);
    b = await node('node-b', cluster, redis, options);
  });

  historyScenarios(() => ({ a, b, connect }));
});

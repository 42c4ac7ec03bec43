import { fileURLToPath } from 'node:url';

import { RedisClusterBus, RedisPresence, clusterNodes } from '@fleetwire/bus';
import {
  killServicesFromSource,
  runServiceFromSource,
  testRedisCluster,
  type ServiceFromSource,
  type TestRedisCluster,
} from '@fleetwire/testkit';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

import { clusterScenarios } from './cluster-scenarios.js';
import { HISTORY_NODE_ENV, HISTORY_NODE_LIMITS, historyScenarios } from './history-scenarios.js';
import {
  SECRET,
  TestClient,
  httpGet,
  mintToken,
  startTestEdge,
  TestClientPool,
  type TestEdge,
  type TestEdgeOptions,
} from './test-support.js';

const clients = new TestClientPool();
const { connect } = clients;
const closers: (() => Promise<void> | void)[] = [];

/**
 * An edge node whose bus (sharded pub/sub, interest-based publishing) and presence are both on
 * the 3-master Redis Cluster, as FLEETWIRE_REDIS_CLUSTER_NODES alone configures it.
 */
async function node(
  name: string,
  cluster: TestRedisCluster,
  options: Omit<TestEdgeOptions, 'bus' | 'presence'>,
): Promise<TestEdge> {
  const nodes = clusterNodes(cluster.nodes);
  const bus = await RedisClusterBus.connect({ nodes, nodeId: name, prefix: cluster.keyPrefix });
  const presence = await RedisPresence.connect({
    nodes,
    prefix: cluster.keyPrefix,
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

async function environment(): Promise<TestRedisCluster> {
  const cluster = await testRedisCluster();
  closers.push(() => cluster.close());
  return cluster;
}

afterEach(() => {
  clients.terminateAll();
});

afterAll(async () => {
  for (const close of closers.splice(0)) await close();
});

describe('two edge nodes over a Redis Cluster (bus and presence)', () => {
  let a: TestEdge;
  let b: TestEdge;
  beforeAll(async () => {
    const cluster = await environment();
    const limits = { commandTimeoutMs: 500, ratePerSec: 10_000, rateBurst: 10_000 };
    a = await node('node-a', cluster, { limits });
    b = await node('node-b', cluster, { limits });
  });

  clusterScenarios(() => ({ a, b, connect }));
});

describe('history over a Redis Cluster, two nodes', () => {
  let a: TestEdge;
  let b: TestEdge;
  beforeAll(async () => {
    const cluster = await environment();
    const options = { env: HISTORY_NODE_ENV, limits: HISTORY_NODE_LIMITS };
    a = await node('node-a', cluster, options);
    b = await node('node-b', cluster, options);
  });

  historyScenarios(() => ({ a, b, connect }));
});

// tsx is a dependency of this package, so the child resolves it from here.
const PACKAGE_DIR = fileURLToPath(new URL('..', import.meta.url));

describe('two edge processes configured with FLEETWIRE_REDIS_CLUSTER_NODES alone (no FLEETWIRE_REDIS_URL)', () => {
  let cluster: TestRedisCluster;
  const ports: Record<'a' | 'b', number> = { a: 0, b: 0 };
  const open: TestClient[] = [];

  const runEdge = (name: string, env: Record<string, string> = {}): ServiceFromSource =>
    runServiceFromSource({
      packageDir: PACKAGE_DIR,
      entry: 'src/main.ts',
      env: {
        FLEETWIRE_HOST: '127.0.0.1',
        FLEETWIRE_PORT: '0',
        FLEETWIRE_NODE_ID: name,
        FLEETWIRE_JWT_HS256_SECRET: SECRET,
        FLEETWIRE_JWT_ISSUER: 'fleetwire-test',
        FLEETWIRE_JWT_AUDIENCE: 'fleetwire',
        FLEETWIRE_REDIS_CLUSTER_NODES: cluster.nodes.join(','),
        FLEETWIRE_REDIS_PREFIX: cluster.keyPrefix,
        FLEETWIRE_DRAIN_WINDOW_MS: '300',
        ...env,
      },
    });

  const client = async (edge: 'a' | 'b', claims: Parameters<typeof mintToken>[0]) => {
    const opened = await TestClient.open(`ws://127.0.0.1:${ports[edge]}/ws`, mintToken(claims));
    open.push(opened);
    return opened;
  };

  const presenceOn = async (edge: 'a' | 'b', deviceId: string) => {
    const token = mintToken({ sub: 'ops', role: 'dashboard' });
    const answer = await httpGet(ports[edge], `/api/devices/${deviceId}/presence`, token);
    expect(answer.status).toBe(200);
    return JSON.parse(answer.body) as Record<string, unknown>;
  };

  beforeAll(async () => {
    cluster = await testRedisCluster();
    // A runs two workers: each is a node of its own on the cluster, behind one port. B is one
    // node (the default would follow the machine's cores).
    const a = runEdge('edge-a', { FLEETWIRE_WORKERS: '2' });
    const b = runEdge('edge-b', { FLEETWIRE_WORKERS: '1' });
    [ports.a, ports.b] = await Promise.all([a.listening, b.listening]);
  }, 120_000);

  afterAll(async () => {
    for (const c of open) c.ws.terminate();
    killServicesFromSource();
    await cluster.close();
  });

  it('a dashboard on A sees a device on B online, commands it, gets the ack; the device leaves and reads offline', async () => {
    expect((await httpGet(ports.a, '/readyz')).status).toBe(200);
    const dashboard = await client('a', { sub: 'ops', role: 'dashboard' });
    dashboard.send({ type: 'subscribe', id: 's', topics: ['devices/car-c1/presence'] });
    expect(await dashboard.next()).toEqual({ type: 'ack', id: 's' });

    const device = await client('b', { sub: 'car-c1', role: 'device' });
    const online = await dashboard.next();
    expect(online).toMatchObject({
      type: 'message',
      kind: 'presence',
      from: 'car-c1',
      data: { online: true },
    });
    const holder = (online['data'] as { node: string }).node;
    expect(holder).toMatch(/^edge-b-/);
    expect(await presenceOn('a', 'car-c1')).toMatchObject({
      deviceId: 'car-c1',
      online: true,
      node: holder,
    });

    dashboard.send({ type: 'command', id: 'c1', target: 'car-c1', name: 'unlock' });
    expect(await device.next()).toEqual({ type: 'command', id: 'c1', from: 'ops', name: 'unlock' });
    device.send({ type: 'ack', id: 'c1', result: { unlocked: true } });
    expect(await dashboard.next()).toEqual({ type: 'ack', id: 'c1', result: { unlocked: true } });

    await device.close();
    expect(await dashboard.next()).toMatchObject({
      kind: 'presence',
      from: 'car-c1',
      data: { online: false },
    });
    const offline = await presenceOn('a', 'car-c1');
    expect(offline).toMatchObject({ deviceId: 'car-c1', online: false });
    expect(offline).not.toHaveProperty('node');
    // A command to it now is answered at once: nobody holds it.
    dashboard.send({ type: 'command', id: 'c2', target: 'car-c1', name: 'unlock' });
    expect(await dashboard.next()).toMatchObject({ type: 'nack', id: 'c2', reason: 'offline' });

    // Interest-based publishing shows in /metrics: B's presence events crossed Redis (A listened);
    // A (two workers) reports its one bus once, from the supervising thread; B from its node.
    const interest = async (edge: 'a' | 'b') => {
      const text = (await httpGet(ports[edge], '/metrics')).body;
      return text
        .split('\n')
        .filter((line) => line.startsWith('fleetwire_edge_bus_interest_publishes_total{'));
    };
    const onB = await interest('b');
    const fannedOut = onB.find((line) => line.includes('result="fanned_out"'));
    expect(Number(fannedOut?.split(' ').pop())).toBeGreaterThanOrEqual(2);
    const onA = await interest('a');
    expect(onA.map((line) => /result="(\w+)"/.exec(line)?.[1]).sort()).toEqual([
      'fanned_out',
      'skipped',
    ]);
    // Both follow the tenant's interest table (A from its supervising thread).
    for (const edge of ['a', 'b'] as const) {
      const text = (await httpGet(ports[edge], '/metrics')).body;
      const followed = /^fleetwire_edge_bus_interest_followed_domains(?:{[^}]*})? (\d+)$/m.exec(
        text,
      );
      expect(Number(followed?.[1])).toBeGreaterThanOrEqual(1);
    }
  });
});

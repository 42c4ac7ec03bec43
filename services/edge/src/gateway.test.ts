import { MemoryBusHub, MemoryPresence } from '@fleetwire/bus';
import { afterAll, afterEach, beforeAll, describe } from 'vitest';

import { gatewayScenarios } from './gateway-scenarios.js';
import { startTestEdge, type TestEdge, TestClientPool } from './test-support.js';

const TTL_MS = 30_000;
const clients = new TestClientPool();
const { connect } = clients;
const edges: TestEdge[] = [];

describe('gateways across edge nodes over the in-memory bus', () => {
  const hub = new MemoryBusHub();
  const presence = new MemoryPresence(TTL_MS);
  const node = async (name: string): Promise<TestEdge> => {
    const edge = await startTestEdge({
      env: { FLEETWIRE_NODE_ID: name },
      limits: { commandTimeoutMs: 2_000 },
      bus: hub.connect(name),
      presence,
    });
    edges.push(edge);
    return edge;
  };
  let a: TestEdge;
  let b: TestEdge;
  let c: TestEdge;
  beforeAll(async () => {
    [a, b, c] = [await node('node-a'), await node('node-b'), await node('node-c')];
  });
  afterEach(() => {
    clients.terminateAll();
  });
  afterAll(() => {
    for (const edge of edges) edge.close();
  });

  gatewayScenarios(() => ({ a, b, c, ttlMs: TTL_MS, connect }));
});

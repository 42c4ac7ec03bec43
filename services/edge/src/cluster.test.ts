import { MemoryBusHub, MemoryPresence } from '@fleetwire/bus';
import { afterAll, afterEach, beforeAll, describe } from 'vitest';

import { clusterScenarios } from './cluster-scenarios.js';
import { startTestEdge, type TestEdge, TestClientPool } from './test-support.js';

const clients = new TestClientPool();
const { connect } = clients;
let a: TestEdge;
let b: TestEdge;

describe('two edge nodes over the in-memory bus', () => {
  beforeAll(async () => {
    const hub = new MemoryBusHub();
    const presence = new MemoryPresence(30_000);
    const node = (name: string): Promise<TestEdge> =>
      startTestEdge({
        env: { FLEETWIRE_NODE_ID: name },
        limits: { commandTimeoutMs: 500 },
        bus: hub.connect(name),
        presence,
      });
    a = await node('node-a');
    b = await node('node-b');
  });
  afterEach(() => {
    clients.terminateAll();
  });
  afterAll(() => {
    a.close();
    b.close();
  });

  clusterScenarios(() => ({ a, b, connect }));
});

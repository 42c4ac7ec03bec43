import { MemoryBusHub, MemoryPresence } from '@fleetwire/bus';
import { afterAll, afterEach, beforeAll, describe } from 'vitest';

import { clusterScenarios } from './cluster-scenarios.js';
import { TestClient, mintToken, startTestEdge, type TestEdge } from './test-support.js';

const clients: TestClient[] = [];
let a: TestEdge;
let b: TestEdge;

async function connect(
  edge: TestEdge,
  claims: Parameters<typeof mintToken>[0],
  format: 'json' | 'msgpack' = 'json',
) {
  const client = await TestClient.open(edge.url, mintToken(claims), { format });
  clients.push(client);
  return client;
}

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
    for (const c of clients.splice(0)) c.ws.terminate();
  });
  afterAll(() => {
    a.close();
    b.close();
  });

  clusterScenarios(() => ({ a, b, connect }));
});

import { MemoryBusHub, MemoryPresence } from '@fleetwire/bus';
import { afterAll, afterEach, beforeAll, describe } from 'vitest';

import { HISTORY_NODE_ENV, HISTORY_NODE_LIMITS, historyScenarios } from './history-scenarios.js';
import { TestClient, mintToken, startTestEdge, type TestEdge } from './test-support.js';

const clients: TestClient[] = [];
let a: TestEdge;
let b: TestEdge;

describe('history over the in-memory bus (the embedded mode’s), two nodes', () => {
  beforeAll(async () => {
    const hub = new MemoryBusHub();
    const presence = new MemoryPresence(30_000);
    const node = (name: string): Promise<TestEdge> =>
      startTestEdge({
        env: { FLEETWIRE_NODE_ID: name, ...HISTORY_NODE_ENV },
        limits: HISTORY_NODE_LIMITS,
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

  historyScenarios(() => ({
    a,
    b,
    connect: async (edge, claims) => {
      const client = await TestClient.open(edge.url, mintToken(claims));
      clients.push(client);
      return client;
    },
  }));
});

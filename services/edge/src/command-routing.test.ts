import { MemoryBusHub, MemoryPresence } from '@fleetwire/bus';
import { afterAll, afterEach, beforeAll, describe } from 'vitest';

import { inbox, type InboxMessage } from './core/node-messages.js';
import { inboxReader, routingScenarios } from './routing-scenarios.js';
import { startTestEdge, TestClientPool, type TestEdge } from './test-support.js';

const clients = new TestClientPool();
const edges: TestEdge[] = [];
const hub = new MemoryBusHub();
const presence = new MemoryPresence(30_000);
const peer = hub.connect('node-s');
let peerInbox: () => Promise<InboxMessage>;

describe('commands routed through presence, three nodes over the in-memory bus', () => {
  beforeAll(async () => {
    peerInbox = inboxReader(peer);
    await peer.listen(inbox.node('node-s'));
    for (const name of ['node-a', 'node-b', 'node-c']) {
      edges.push(
        await startTestEdge({
          env: { FLEETWIRE_NODE_ID: name },
          bus: hub.connect(name),
          presence,
        }),
      );
    }
  });
  afterEach(() => clients.terminateAll());
  afterAll(() => {
    for (const edge of edges) edge.close();
  });

  routingScenarios(() => {
    const [a, b, c] = edges as [TestEdge, TestEdge, TestEdge];
    return { a, b, c, presence, peer, peerInbox, connect: clients.connect };
  });
});

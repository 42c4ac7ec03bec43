import { MemoryBusHub, MemoryPresence } from '@fleetwire/bus';
import { fuzzSettings } from '@fleetwire/testkit';
import fc from 'fast-check';
import { afterAll, beforeAll, expect, it } from 'vitest';

import { inbox } from './core/node-messages.js';
import { TestClientPool, startTestEdge, valueOf, type TestEdge } from './test-support.js';

/**
 * Hostile messages on a node's inbox (a process on the same Redis speaking the bus framing):
 * commands, takeovers and state for arbitrary or malformed device keys, hop counts and fields.
 * The node drops and counts what it cannot read, answers what it can, never crashes, and an
 * honest command from another node still reaches its device afterwards.
 * FLEETWIRE_FUZZ_SEED replays a run; FLEETWIRE_FUZZ_RUNS sets the number of inputs.
 */
const { seed: SEED, runs: RUNS } = fuzzSettings(300);

const clients = new TestClientPool();
const hub = new MemoryBusHub();
const presence = new MemoryPresence(30_000);
const rogue = hub.connect('node-rogue');
let a: TestEdge;
let b: TestEdge;

beforeAll(async () => {
  const node = (name: string) =>
    startTestEdge({ env: { FLEETWIRE_NODE_ID: name }, bus: hub.connect(name), presence });
  a = await node('node-a');
  b = await node('node-b');
});
afterAll(() => {
  clients.terminateAll();
  a.close();
  b.close();
});

const key = fc.oneof(
  fc.string({ maxLength: 300 }),
  fc.constantFrom('acme/', '/x', 'acme/honest-car', 'globex/honest-car', 'acme/nobody'),
);
const message = fc.oneof(
  fc.record(
    {
      type: fc.constant('command'),
      id: fc.oneof(fc.string({ maxLength: 80 }), fc.integer()),
      from: fc.string({ maxLength: 140 }),
      name: fc.string({ maxLength: 80 }),
      params: fc.jsonValue({ maxDepth: 3 }),
      replyTo: fc.oneof(fc.constant('node-rogue'), fc.string({ maxLength: 300 })),
      timeoutMs: fc.oneof(fc.integer(), fc.double()),
      to: key,
      hops: fc.oneof(fc.integer({ min: -2, max: 3 }), fc.string()),
      v: fc.integer({ min: 0, max: 3 }),
    },
    { requiredKeys: ['type'] },
  ),
  fc.record(
    { type: fc.constant('takeover'), node: fc.string({ maxLength: 300 }), to: key },
    { requiredKeys: ['type'] },
  ),
  fc.record(
    {
      type: fc.constant('state'),
      to: key,
      version: fc.oneof(fc.integer(), fc.string()),
      desired: fc.jsonValue({ maxDepth: 3 }),
      delta: fc.jsonValue({ maxDepth: 3 }),
    },
    { requiredKeys: ['type'] },
  ),
  fc.jsonValue({ maxDepth: 4 }),
);

it(`a node's inbox takes hostile messages and keeps routing (seed ${SEED})`, async () => {
  const connect = clients.connect;
  const device = await connect(a, { sub: 'honest-car', role: 'device' });
  const dashboard = await connect(b, { sub: 'ops', role: 'dashboard' });
  await fc.assert(
    fc.asyncProperty(message, async (hostile) => {
      // Never a valid takeover of the honest device: that would be a peer doing its job.
      const m = (typeof hostile === 'object' && hostile !== null ? hostile : {}) as {
        type?: unknown;
        to?: unknown;
      };
      if (m.type === 'takeover' && m.to === 'acme/honest-car') return;
      await rogue.send(inbox.node('node-a'), Buffer.from(JSON.stringify(hostile)));
    }),
    { seed: SEED, numRuns: RUNS },
  );
  const dropped = await valueOf(a.metrics.nodeMessagesDropped, { reason: 'invalid' });
  expect(dropped).toBeGreaterThan(0);
  dashboard.send({ type: 'command', id: 'after', target: 'honest-car', name: 'ping' });
  // Fuzzed commands that happened to be well-formed for the honest device came first.
  let received = await device.next();
  while (received['id'] !== 'after') received = await device.next();
  expect(received).toMatchObject({ type: 'command', id: 'after', name: 'ping' });
  device.send({ type: 'ack', id: 'after' });
  expect(await dashboard.next()).toEqual({ type: 'ack', id: 'after' });
  expect(b.server.stateSizes().pendingCommands).toBe(0);
});

import { MemoryBusHub, MemoryPresence, type HistoryQuery, type HistoryRead } from '@fleetwire/bus';
import { waitFor } from '@fleetwire/testkit';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

import { TestClient, mintToken, startTestEdge, type TestEdge } from './test-support.js';

/** The socket's backpressure limit on this node: a recovery may send half of it. */
const BACKPRESSURE = 64 * 1024;

let edge: TestEdge;
const clients: TestClient[] = [];
/** The patterns of the history reads the node asked the bus for, in order. */
const reads: string[] = [];
/** While set, every history read waits for it (the bus is slow). */
let slowBus: Promise<void> | undefined;
/** Counts turns of the event loop while a test spins it; each read notes the turn it ran in. */
let turn = 0;
const readTurns: number[] = [];

async function connect(claims: Parameters<typeof mintToken>[0]): Promise<TestClient> {
  const client = await TestClient.open(edge.url, mintToken(claims));
  clients.push(client);
  return client;
}

/** Makes every history read wait (a slow bus) until the answer is called, which lets them go. */
function slowDownReads(): () => void {
  let release = (): void => undefined;
  slowBus = new Promise((resolve) => (release = resolve));
  return () => {
    release();
    slowBus = undefined;
  };
}

/** Subscribes to every topic, each resuming from `since` (id `s`). */
function resumeAll(client: TestClient, topics: string[], since: string): void {
  client.send({
    type: 'subscribe',
    id: 's',
    topics,
    since: Object.fromEntries(topics.map((t) => [t, since])),
  });
}

/** Publishes telemetry from `device` and returns the position a watcher saw for the first. */
async function published(device: TestClient, sub: string, payloads: string[]): Promise<string> {
  const watcher = await connect({ sub: `${sub}-watch`, role: 'dashboard' });
  watcher.send({ type: 'subscribe', id: 'w', topics: [`devices/${sub}/telemetry`] });
  expect(await watcher.next()).toEqual({ type: 'ack', id: 'w' });
  for (const pad of payloads) device.send({ type: 'telemetry', data: { pad } });
  const first = await watcher.next();
  for (let i = 1; i < payloads.length; i++) await watcher.next();
  return first['pos'] as string;
}

beforeAll(async () => {
  const bus = new MemoryBusHub().connect('bounds');
  const read = bus.readHistory.bind(bus);
  bus.readHistory = async (query: HistoryQuery): Promise<HistoryRead> => {
    reads.push(query.pattern);
    readTurns.push(turn);
    await slowBus;
    return read(query);
  };
  edge = await startTestEdge({
    env: { FLEETWIRE_NODE_ID: 'bounds' },
    limits: { ratePerSec: 10_000, rateBurst: 10_000, maxBackpressureBytes: BACKPRESSURE },
    bus,
    presence: new MemoryPresence(30_000),
  });
});
afterEach(() => {
  for (const client of clients.splice(0)) client.ws.terminate();
});
afterAll(() => edge.close());

describe('recovery is bounded per connection', () => {
  it('a recovery over half the socket’s backpressure limit is refused (too_many) instead of cutting the socket; one under it is made', async () => {
    const device = await connect({ sub: 'big-car', role: 'device' });
    // 40 payloads of 1 KiB after the first: 40 KiB, over the 32 KiB a recovery may send here.
    const first = await published(device, 'big-car', [
      'start',
      ...Array(40).fill('x'.repeat(1024)),
    ]);
    const dashboard = await connect({ sub: 'big-ops', role: 'dashboard' });
    const topic = 'devices/big-car/telemetry';
    dashboard.send({ type: 'subscribe', id: 's', topics: [topic], since: { [topic]: first } });
    expect(await dashboard.next()).toMatchObject({
      type: 'recovery',
      topic,
      recovered: false,
      reason: 'too_many',
    });
    expect(await dashboard.next()).toEqual({ type: 'ack', id: 's' });
    expect(await dashboard.roundTrip()).toEqual([]);

    // 20 more of 1 KiB since the last one seen: under the bound, recovered.
    const from = await published(device, 'big-car', Array(21).fill('y'.repeat(1024)));
    const later = await connect({ sub: 'big-ops-2', role: 'dashboard' });
    later.send({ type: 'subscribe', id: 's', topics: [topic], since: { [topic]: from } });
    expect(await later.next()).toMatchObject({ type: 'recovery', recovered: true, count: 20 });
  });

  it('live messages held while a recovery waits are bounded by the same bytes: past them it is refused (too_many) and its range covers what was not kept', async () => {
    const device = await connect({ sub: 'busy-car', role: 'device' });
    const topic = 'devices/busy-car/telemetry';
    const since = await published(device, 'busy-car', ['start']);
    const release = slowDownReads();
    const dashboard = await connect({ sub: 'busy-ops', role: 'dashboard' });
    dashboard.send({ type: 'subscribe', id: 's', topics: [topic], since: { [topic]: since } });
    await dashboard.roundTrip();
    // 40 KiB arrive live while the read waits: over the 32 KiB a recovery may send here.
    const sent = await published(device, 'busy-car', Array(40).fill('z'.repeat(1024)));
    release();
    const answer = await dashboard.next();
    expect(answer).toMatchObject({ type: 'recovery', recovered: false, reason: 'too_many' });
    // Then what was held, then the subscription's ack.
    const held = await dashboard.roundTrip();
    expect(held.pop()).toEqual({ type: 'ack', id: 's' });
    expect(held.length).toBeGreaterThan(0);
    expect(held.length).toBeLessThan(32);
    expect(held.every((m) => m.type === 'message' && m['topic'] === topic)).toBe(true);
    // The first one held is the first sent; the rest, not kept, are in the range to fetch.
    expect(held[0]?.['pos']).toBe(sent);
    expect(answer['to']).toBeGreaterThanOrEqual(held.at(-1)?.['ts'] as number);
  });

  it('one frame asking for many recoveries reads each in a turn of its own, and pays a token per pattern', async () => {
    const device = await connect({ sub: 'turns-car', role: 'device' });
    const since = await published(device, 'turns-car', ['start']);
    const topics = [...Array(8).keys()].map((i) => `devices/turns-car/telemetry/t${i}`);
    readTurns.length = 0;
    let spinning = true;
    const spin = (): void => {
      turn += 1;
      if (spinning) setImmediate(spin);
    };
    spin();
    const dashboard = await connect({ sub: 'turns-ops', role: 'dashboard' });
    resumeAll(dashboard, topics, since);
    const answers = [];
    for (let m = await dashboard.next(); m.type !== 'ack'; m = await dashboard.next()) {
      answers.push(m);
    }
    spinning = false;
    expect(answers.filter((m) => m.type === 'recovery')).toHaveLength(8);
    expect(new Set(readTurns).size).toBe(8);

    // Eight patterns resumed cost eight tokens: with a burst of 4 the frame is refused.
    const strict = await startTestEdge({
      limits: { ratePerSec: 0.001, rateBurst: 4 },
      bus: new MemoryBusHub().connect('strict'),
      presence: new MemoryPresence(30_000),
    });
    try {
      const poor = await TestClient.open(strict.url, mintToken({ sub: 'poor', role: 'dashboard' }));
      clients.push(poor);
      resumeAll(poor, topics, since);
      expect(await poor.next()).toMatchObject({ type: 'error', code: 'rate_limited', ref: 's' });
    } finally {
      strict.close();
    }
  });

  it('a position past the history head (no client saw it) drops none of the messages held meanwhile', async () => {
    const device = await connect({ sub: 'future-car', role: 'device' });
    const topic = 'devices/future-car/telemetry';
    const seen = await published(device, 'future-car', ['start']);
    const [epoch, offset] = seen.split(':') as [string, string];
    const future = `${epoch}:${Number(offset.split('-')[0]) + 1e9}-0`;
    const release = slowDownReads();
    const dashboard = await connect({ sub: 'future-ops', role: 'dashboard' });
    dashboard.send({ type: 'subscribe', id: 's', topics: [topic], since: { [topic]: future } });
    await dashboard.roundTrip();
    await published(device, 'future-car', ['a', 'b']);
    release();
    expect(await dashboard.next()).toMatchObject({ type: 'recovery', recovered: true, count: 2 });
    expect([await dashboard.next(), await dashboard.next()]).toMatchObject([
      { data: { pad: 'a' } },
      { data: { pad: 'b' } },
    ]);
  });

  it('a subscription dropped while its recovery waits its turn is not read', async () => {
    const device = await connect({ sub: 'drop-car', role: 'device' });
    const since = await published(device, 'drop-car', ['start']);
    const topics = [...Array(10).keys()].map((i) => `devices/drop-car/telemetry/d${i}`);
    reads.length = 0;
    const release = slowDownReads();
    const dashboard = await connect({ sub: 'drop-ops', role: 'dashboard' });
    resumeAll(dashboard, topics, since);
    await waitFor('the first read', () => reads.length > 0);
    dashboard.send({ type: 'unsubscribe', id: 'u', topics });
    await waitFor('the unsubscribe', async () =>
      (await dashboard.roundTrip()).some((m) => m['id'] === 'u'),
    );
    release();
    await waitFor('no recovery left', () => edge.server.stateSizes().recoveries === 0);
    expect(reads).toEqual([`acme/${topics[0]}`]);
  });

  it('one frame asking for many recoveries reads them one at a time, and reads no more once the connection is gone', async () => {
    const device = await connect({ sub: 'many-car', role: 'device' });
    const since = await published(device, 'many-car', ['start']);
    const topics = [...Array(20).keys()].map((i) => `devices/many-car/telemetry/s${i}`);
    reads.length = 0;
    const release = slowDownReads();
    const others = edge.server.stateSizes().sockets;
    const dashboard = await connect({ sub: 'many-ops', role: 'dashboard' });
    resumeAll(dashboard, topics, since);
    // The pong comes after the frame was handled: every subscription is held by then.
    await dashboard.roundTrip();
    await waitFor('the first read', () => reads.length > 0);
    expect(reads).toEqual([`acme/${topics[0]}`]);

    dashboard.ws.terminate();
    await waitFor('the close', () => edge.server.stateSizes().sockets === others);
    release();
    await waitFor('no recovery left', () => edge.server.stateSizes().recoveries === 0);
    expect(reads).toHaveLength(1);
  });
});

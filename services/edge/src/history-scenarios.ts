import { encodeStreamChunk } from '@fleetwire/protocol';
import { waitFor } from '@fleetwire/testkit';
import { expect, it } from 'vitest';

import type { Received, TestClient, mintToken } from './test-support.js';
import { type TestEdge } from './test-support.js';

/** Node settings of the history scenarios: bursts of 500, 20 status messages kept per topic. */
export const HISTORY_NODE_ENV = { FLEETWIRE_HISTORY_RULES: 'devices/+/status=300:20' };
export const HISTORY_NODE_LIMITS = { ratePerSec: 10_000, rateBurst: 10_000 };

export interface HistoryCluster {
  a: TestEdge;
  b: TestEdge;
  /** Opens a client on a node; it is terminated after the test. */
  connect(edge: TestEdge, claims: Parameters<typeof mintToken>[0]): Promise<TestClient>;
}

/** Everything a client receives, in order, kept as it arrives. */
export function record(client: TestClient): Received[] {
  const seen: Received[] = [];
  void (async () => {
    for (;;) seen.push(await client.next());
  })();
  return seen;
}

const telemetryN = (m: Received): number => (m['data'] as { n: number }).n;
const messages = (seen: Received[]) => seen.filter((m) => m.type === 'message');

/** Sends a ping and waits for its pong in `seen`: everything before it has arrived. */
async function drained(client: TestClient, seen: Received[]): Promise<void> {
  const id = `drain-${Math.random()}`;
  client.send({ type: 'ping', id });
  await waitFor('the pong', () => seen.some((m) => m.type === 'pong' && m['id'] === id), 10_000);
}

async function subscribed(
  client: TestClient,
  topics: string[],
  since?: Record<string, string>,
): Promise<void> {
  client.send({ type: 'subscribe', id: 's', topics, ...(since ? { since } : {}) });
}

/**
 * History and recovery across two edge nodes, whatever carries messages between them (the
 * in-memory bus of the embedded mode, Redis): the nodes run with history on and device rate
 * limits high enough for bursts of 500.
 */
export function historyScenarios(cluster: () => HistoryCluster): void {
  async function awayWhilePublishing(dashboardEdge: TestEdge, comeBackOn: TestEdge, sub: string) {
    const { a, connect } = cluster();
    const device = await connect(a, { sub: `${sub}-car`, role: 'device' });
    // A watcher that stays: when it has everything, everything is in history.
    const watcher = await connect(dashboardEdge, { sub: `${sub}-watch`, role: 'dashboard' });
    await subscribed(watcher, [`devices/${sub}-car/telemetry`]);
    expect(await watcher.next()).toEqual({ type: 'ack', id: 's' });
    const watched = record(watcher);
    const dashboard = await connect(dashboardEdge, { sub: `${sub}-ops`, role: 'dashboard' });
    await subscribed(dashboard, ['devices/+/telemetry']);
    expect(await dashboard.next()).toEqual({ type: 'ack', id: 's' });
    const before = record(dashboard);
    for (let n = 0; n < 10; n++) device.send({ type: 'telemetry', data: { n } });
    await waitFor('the first 10', () => messages(before).length === 10, 10_000);
    const last = messages(before).at(-1)!;
    expect(last['pos']).toMatch(/^[A-Za-z0-9]+:\d+-\d+$/);
    dashboard.ws.terminate();
    await dashboard.closed;

    for (let n = 10; n < 510; n++) device.send({ type: 'telemetry', data: { n } });
    await waitFor('the watcher to see all 510', () => messages(watched).length === 510, 20_000);

    const back = await connect(comeBackOn, { sub: `${sub}-ops`, role: 'dashboard' });
    const seen = record(back);
    await subscribed(back, ['devices/+/telemetry'], {
      'devices/+/telemetry': last['pos'] as string,
    });
    await waitFor('the ack', () => seen.some((m) => m.type === 'ack'), 20_000);
    device.send({ type: 'telemetry', data: { n: 510 } });
    await waitFor('the live one', () => messages(seen).length === 501, 10_000);
    expect(seen[0]).toEqual({
      type: 'recovery',
      id: 's',
      topic: 'devices/+/telemetry',
      recovered: true,
      count: 500,
    });
    expect(seen[501]).toEqual({ type: 'ack', id: 's' });
    const got = messages(seen);
    expect(got.map(telemetryN)).toEqual([...Array(501).keys()].map((i) => i + 10));
    // Recovered ones say which subscription they are for; positions only grow.
    expect(got.slice(0, 500).every((m) => m['sub'] === 'devices/+/telemetry')).toBe(true);
    expect(got[500]!['sub']).toBeUndefined();
    const offsets = got.map((m) => (m['pos'] as string).split(':')[1]!.split('-').map(Number));
    for (let i = 1; i < offsets.length; i++) {
      const [ms, n] = offsets[i]!;
      const [pms, pn] = offsets[i - 1]!;
      expect(ms! > pms! || (ms === pms && n! > pn!)).toBe(true);
    }
    await drained(back, seen);
    expect(messages(seen)).toHaveLength(501);
  }

  it('a dashboard away while a device publishes 500 messages gets exactly those 500 on resuming, in order, then live ones', async () => {
    await awayWhilePublishing(cluster().a, cluster().a, 'h1');
  }, 60_000);

  it('the same across two edges: away from B, back on A, and away from B, back on B', async () => {
    await awayWhilePublishing(cluster().b, cluster().a, 'h2');
    await awayWhilePublishing(cluster().b, cluster().b, 'h3');
  }, 60_000);

  it('no duplicate and no reordering at the seam: resuming while the device keeps publishing', async () => {
    const { a, b, connect } = cluster();
    const device = await connect(a, { sub: 'h4-car', role: 'device' });
    const dashboard = await connect(b, { sub: 'h4-ops', role: 'dashboard' });
    await subscribed(dashboard, ['devices/h4-car/#']);
    // The device's online event (published once its record is written, after its welcome) can
    // reach node B between the subscription and its ack (seen in CI on a Redis Cluster).
    let answer = await dashboard.next();
    while (answer['kind'] === 'presence') answer = await dashboard.next();
    expect(answer).toEqual({ type: 'ack', id: 's' });
    device.send({ type: 'telemetry', data: { n: 0 } });
    // The device's presence message (devices/h4-car/presence) may come first when its append
    // is slower than the subscription (seen under load): resuming from it would rightly
    // recover n = 0 too. The position to resume from is the telemetry's.
    let first = await dashboard.next();
    while (first['kind'] !== 'telemetry') first = await dashboard.next();
    dashboard.ws.terminate();
    let n = 1;
    let seen: Received[] = [];
    const publishing = setInterval(() => {
      for (let i = 0; i < 20; i++) device.send({ type: 'telemetry', data: { n: n++ } });
    }, 5);
    try {
      await waitFor('some missed', () => n > 200, 10_000);
      const back = await connect(b, { sub: 'h4-ops', role: 'dashboard' });
      seen = record(back);
      await subscribed(back, ['devices/h4-car/#'], { 'devices/h4-car/#': first['pos'] as string });
      await waitFor('the ack', () => seen.some((m) => m.type === 'ack'), 10_000);
      const sentBy = n;
      await waitFor('live ones after the ack', () => messages(seen).length > sentBy + 50, 10_000);
    } finally {
      clearInterval(publishing);
    }
    const ns = messages(seen).map(telemetryN);
    expect(ns).toEqual([...Array(ns.length).keys()].map((i) => i + 1));
  }, 30_000);

  it('history cannot cover the position: recovered false with the reason and the range to fetch, then live', async () => {
    const { a, b, connect } = cluster();
    const device = await connect(a, { sub: 'h5-car', role: 'device' });
    const dashboard = await connect(b, { sub: 'h5-ops', role: 'dashboard' });
    // The nodes keep 20 status messages per topic (FLEETWIRE_HISTORY_RULES).
    await subscribed(dashboard, ['devices/h5-car/status']);
    expect(await dashboard.next()).toEqual({ type: 'ack', id: 's' });
    // When the watcher has them all, history has them all.
    const watcher = await connect(b, { sub: 'h5-watch', role: 'dashboard' });
    await subscribed(watcher, ['devices/h5-car/status']);
    expect(await watcher.next()).toEqual({ type: 'ack', id: 's' });
    const watched = record(watcher);
    device.send({ type: 'status', data: { n: 0 } });
    const first = await dashboard.next();
    dashboard.ws.terminate();
    for (let n = 1; n <= 30; n++) device.send({ type: 'status', data: { n } });
    await waitFor('the watcher to see 31', () => messages(watched).length === 31, 10_000);
    const firstMs = Number((first['pos'] as string).split(':')[1]!.split('-')[0]);

    const back = await connect(b, { sub: 'h5-ops', role: 'dashboard' });
    const seen = record(back);
    await subscribed(back, ['devices/h5-car/status'], {
      'devices/h5-car/status': first['pos'] as string,
    });
    await waitFor('the ack', () => seen.some((m) => m.type === 'ack'), 10_000);
    const recovery = seen.find((m) => m.type === 'recovery')!;
    expect(recovery).toMatchObject({
      type: 'recovery',
      id: 's',
      topic: 'devices/h5-car/status',
      recovered: false,
      reason: 'expired',
      from: firstMs,
    });
    expect(recovery['to'] as number).toBeGreaterThanOrEqual(firstMs);
    device.send({ type: 'status', data: { n: 31 } });
    await waitFor('live', () => messages(seen).some((m) => telemetryN(m) === 31), 10_000);

    // Another epoch: the history the position belonged to is gone.
    const other = await connect(b, { sub: 'h5-other', role: 'dashboard' });
    await subscribed(other, ['devices/h5-car/status'], {
      'devices/h5-car/status': `gone:${firstMs}-0`,
    });
    expect(await other.next()).toMatchObject({ recovered: false, reason: 'epoch_changed' });
    expect(await other.next()).toEqual({ type: 'ack', id: 's' });
  }, 30_000);

  it('a binary stream stays a live relay: its opening before its chunks and its end after them, on both nodes, without positions', async () => {
    const { a, b, connect } = cluster();
    const listeners = [
      await connect(a, { sub: 'h6-ops-a', role: 'dashboard' }),
      await connect(b, { sub: 'h6-ops-b', role: 'dashboard' }),
    ];
    for (const listener of listeners) {
      await subscribed(listener, ['devices/h6-mic/streams/#']);
      expect(await listener.next()).toEqual({ type: 'ack', id: 's' });
    }
    const seen = listeners.map(record);
    const device = await connect(a, { sub: 'h6-mic', role: 'device' });
    // Chunks right behind the opening, without waiting for its ack: the edge handles them in
    // order, so listeners must see them in that order too.
    device.send({ type: 'stream_open', channel: 1, name: 'audio' });
    for (let n = 0; n < 20; n++) device.ws.send(encodeStreamChunk(1, Uint8Array.of(n)));
    device.send({ type: 'stream_close', channel: 1 });
    for (const got of seen) {
      await waitFor('the end', () => got.filter((m) => m.type === 'message').length === 2, 10_000);
      const order = got.map((m) =>
        m.type === 'stream_frame' ? m['seq'] : (m['data'] as { state: string }).state,
      );
      expect(order).toEqual(['open', ...Array(20).keys(), 'closed']);
      for (const m of got) expect(m['pos']).toBeUndefined();
    }
  }, 30_000);
}

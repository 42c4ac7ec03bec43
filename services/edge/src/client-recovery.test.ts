import { FleetwireClient, type WebSocketConstructor } from '@fleetwire/client';
import { MemoryBusHub } from '@fleetwire/bus';
import type { DeliveryMessage } from '@fleetwire/protocol';
import { waitFor } from '@fleetwire/testkit';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';

import { HISTORY_NODE_ENV, HISTORY_NODE_LIMITS } from './history-scenarios.js';
import { TestClient, mintToken, startTestEdge, type TestEdge } from './test-support.js';

/** The `ws` package, remembering its sockets so a test can cut one as a network would. */
const sockets: WebSocket[] = [];
class CuttableWebSocket extends WebSocket {
  constructor(url: string, protocols?: string | string[]) {
    super(url, protocols);
    sockets.push(this);
  }
}

const closers: (() => void)[] = [];
afterEach(() => {
  for (const close of closers.splice(0)) close();
});

async function setup(): Promise<{
  edge: TestEdge;
  device: TestClient;
  dashboard: FleetwireClient;
}> {
  const edge = await startTestEdge({
    env: HISTORY_NODE_ENV,
    limits: HISTORY_NODE_LIMITS,
    bus: new MemoryBusHub().connect('node-a'),
  });
  const device = await TestClient.open(edge.url, mintToken({ sub: 'car-1', role: 'device' }));
  const dashboard = new FleetwireClient({
    url: edge.url,
    token: mintToken({ sub: 'ops', role: 'dashboard' }),
    WebSocket: CuttableWebSocket as unknown as WebSocketConstructor,
    backoff: { initialDelayMs: 20, maxDelayMs: 100 },
  });
  closers.push(() => {
    dashboard.close();
    device.ws.terminate();
    edge.close();
  });
  await dashboard.connect();
  return { edge, device, dashboard };
}

describe('FleetwireClient resumes its subscriptions from their positions', () => {
  it('after a cut connection it gets what it missed, once, in order, then live ones, and says recovered', async () => {
    const { device, dashboard } = await setup();
    const got: number[] = [];
    const recovered: { topic: string; count: number }[] = [];
    dashboard.on('message', (m: DeliveryMessage) => got.push((m.data as { n: number }).n));
    dashboard.on('recovered', (r) => recovered.push(r));
    await dashboard.subscribe(['devices/+/telemetry']);
    for (let n = 0; n < 10; n++) device.send({ type: 'telemetry', data: { n } });
    await waitFor('10 live', () => got.length === 10, 10_000);
    expect(dashboard.positionOf('devices/+/telemetry')).toMatch(/^\w+:\d+-\d+$/);

    for (let cut = 0; cut < 3; cut++) {
      sockets.at(-1)!.terminate();
      const from = 10 + cut * 200;
      for (let n = from; n < from + 200; n++) device.send({ type: 'telemetry', data: { n } });
      await waitFor('the reconnect', () => recovered.length === cut + 1, 10_000);
    }
    device.send({ type: 'telemetry', data: { n: 610 } });
    await waitFor('everything', () => got.length >= 611, 10_000);
    expect(got).toEqual([...Array(611).keys()]);
    expect(recovered.every((r) => r.topic === 'devices/+/telemetry')).toBe(true);
    expect(recovered.reduce((sum, r) => sum + r.count, 0)).toBeGreaterThan(0);
  });

  it('history that cannot cover the position is a gap event with the range', async () => {
    const { device, dashboard } = await setup();
    const got: number[] = [];
    const gaps: { topic: string; from: number; to: number; reason: string }[] = [];
    dashboard.on('message', (m: DeliveryMessage) => got.push((m.data as { n: number }).n));
    dashboard.on('gap', (g) => gaps.push(g));
    await dashboard.subscribe(['devices/car-1/status']);
    device.send({ type: 'status', data: { n: 0 } });
    await waitFor('the first', () => got.length === 1, 10_000);
    const before = Date.now();
    sockets.at(-1)!.terminate();
    // 20 status messages are kept per topic (HISTORY_NODE_ENV): 30 is more.
    for (let n = 1; n <= 30; n++) device.send({ type: 'status', data: { n } });
    await waitFor('the gap', () => gaps.length === 1, 10_000);
    expect(gaps[0]).toMatchObject({ topic: 'devices/car-1/status', reason: 'expired' });
    expect(gaps[0]!.from).toBeLessThanOrEqual(before);
    expect(gaps[0]!.to).toBeGreaterThanOrEqual(gaps[0]!.from);
    device.send({ type: 'status', data: { n: 31 } });
    await waitFor('live again', () => got.includes(31), 10_000);
  });
});

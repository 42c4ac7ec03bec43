import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { FleetwireClient, type WebSocketConstructor } from '@fleetwire/client';
import type { DeliveryMessage } from '@fleetwire/protocol';
import { freePort, waitFor } from '@fleetwire/testkit';
import jwt from 'jsonwebtoken';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';

import { killChildren, runStart, type Running } from './test-support.js';

/** The `ws` package, remembering its sockets so a test can cut one as a network would. */
const sockets: WebSocket[] = [];
class CuttableWebSocket extends WebSocket {
  constructor(url: string, protocols?: string | string[]) {
    super(url, protocols);
    sockets.push(this);
  }
}

const clients: FleetwireClient[] = [];
afterEach(() => {
  for (const c of clients.splice(0)) c.close();
  killChildren();
});

const ENV = {
  FLEETWIRE_RATE_PER_SEC: '10000',
  FLEETWIRE_RATE_BURST: '10000',
  FLEETWIRE_HISTORY_RULES: 'devices/+/status=300:20',
};

async function start(
  data: string,
  port: number,
): Promise<{ running: Running; url: string; token: (sub: string, role: string) => string }> {
  const running = runStart(['--data', data], { ...ENV, FLEETWIRE_PORT: String(port) });
  await running.started;
  const secret = readFileSync(join(data, 'secret'), 'utf8').trim();
  return {
    running,
    url: `ws://127.0.0.1:${port}/ws`,
    token: (sub, role) => jwt.sign({ sub, role, tenant: 'default' }, secret, { expiresIn: '1h' }),
  };
}

/** A client whose reconnects wait while `hold.closed` is true (its token provider waits). */
function sdk(url: string, token: string, hold = { closed: false }): FleetwireClient {
  const client = new FleetwireClient({
    url,
    token: async () => {
      await waitFor('the test to let it reconnect', () => !hold.closed, 60_000);
      return token;
    },
    WebSocket: CuttableWebSocket as unknown as WebSocketConstructor,
    backoff: { initialDelayMs: 20, maxDelayMs: 100 },
  });
  clients.push(client);
  return client;
}

const nOf = (m: DeliveryMessage): number => (m.data as { n: number }).n;

describe('history in the embedded mode (fleetwire start)', () => {
  it('a dashboard away while a device publishes 500 messages gets exactly those 500 when it is back, in order, then live ones; a lost history (restart) and an expired one are gaps with the range', async () => {
    const data = mkdtempSync(join(tmpdir(), 'fleetwire-history-'));
    const port = await freePort();
    let node = await start(data, port);
    const device = sdk(node.url, node.token('car-1', 'device'));
    await device.connect();
    const watcher = sdk(node.url, node.token('watch', 'dashboard'));
    const watched: DeliveryMessage[] = [];
    watcher.on('message', (m) => watched.push(m));
    await watcher.connect();
    await watcher.subscribe(['devices/car-1/telemetry']);

    const hold = { closed: false };
    const dashboard = sdk(node.url, node.token('ops', 'dashboard'), hold);
    const got: DeliveryMessage[] = [];
    const recovered: { topic: string; count: number }[] = [];
    const gaps: { topic: string; from: number; to: number; reason: string }[] = [];
    dashboard.on('message', (m) => got.push(m));
    dashboard.on('recovered', (r) => recovered.push(r));
    dashboard.on('gap', (g) => gaps.push(g));
    await dashboard.connect();
    await dashboard.subscribe(['devices/+/telemetry', 'devices/car-1/status']);

    for (let n = 0; n < 10; n++) await device.telemetry({ n });
    await waitFor('10 live', () => got.length === 10, 10_000);
    hold.closed = true;
    sockets.at(-1)!.terminate();
    await waitFor('the dashboard to notice', () => dashboard.state !== 'connected', 10_000);
    for (let n = 10; n < 510; n++) await device.telemetry({ n });
    await waitFor('the watcher to have all 510', () => watched.length === 510, 20_000);
    hold.closed = false;
    // Only subscriptions with a position resume: the status one has seen nothing yet.
    await waitFor('the resume', () => recovered.length === 1, 20_000);
    expect(recovered).toEqual([{ topic: 'devices/+/telemetry', count: 500 }]);
    await device.telemetry({ n: 510 });
    await waitFor('the live one', () => got.length === 511, 10_000);
    expect(got.map(nOf)).toEqual([...Array(511).keys()]);

    // More status messages than the 20 kept while away: expired, with the range.
    device.status({ n: 0 });
    await waitFor('a status', () => got.length === 512, 10_000);
    hold.closed = true;
    const cutAt = Date.now();
    sockets.at(-1)!.terminate();
    await waitFor('the dashboard to notice', () => dashboard.state !== 'connected', 10_000);
    for (let n = 1; n <= 30; n++) await device.status({ n });
    await waitFor('the watcher’s marker', async () => {
      await device.telemetry({ n: 999 });
      return watched.some((m) => nOf(m) === 999);
    });
    hold.closed = false;
    await waitFor('the gap', () => gaps.length === 1, 20_000);
    expect(gaps[0]).toMatchObject({ topic: 'devices/car-1/status', reason: 'expired' });
    expect(gaps[0]!.from).toBeLessThanOrEqual(cutAt);
    expect(gaps[0]!.to).toBeGreaterThanOrEqual(cutAt);

    // A restart loses the in-memory history: the resume says so.
    node.running.child.kill('SIGTERM');
    expect((await node.running.exited).code).toBe(0);
    node = await start(data, port);
    await waitFor('gaps after the restart', () => gaps.length === 3, 30_000);
    expect(gaps.slice(1).map((g) => g.reason)).toEqual(['epoch_changed', 'epoch_changed']);
    await waitFor('the device back', () => device.state === 'connected', 30_000);
    const before = got.length;
    await device.telemetry({ n: 1000 });
    await waitFor('live after the restart', () => got.length > before, 10_000);
    expect(nOf(got.at(-1)!)).toBe(1000);
  }, 120_000);
});

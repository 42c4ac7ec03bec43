import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';

import { waitFor } from '@fleetwire/testkit';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';

import {
  TestClient,
  mintToken,
  refusedUpgrade,
  startTestEdge,
  valueOf,
  type TestEdge,
} from './test-support.js';
import type { EdgeLimits } from './config.js';

const edges: TestEdge[] = [];
const clients: TestClient[] = [];

async function edgeWith(limits: Partial<EdgeLimits>): Promise<TestEdge> {
  const edge = await startTestEdge({ limits });
  edges.push(edge);
  return edge;
}

async function connect(
  edge: TestEdge,
  claims: Parameters<typeof mintToken>[0],
  options = {},
): Promise<TestClient> {
  const client = await TestClient.open(edge.url, mintToken(claims), options);
  clients.push(client);
  return client;
}

afterEach(() => {
  for (const c of clients.splice(0)) c.ws.terminate();
  for (const e of edges.splice(0)) e.close();
});

describe('limits', () => {
  it('a frame over the max payload closes the socket with 1009', async () => {
    const edge = await edgeWith({ maxPayloadBytes: 1024 });
    const device = await connect(edge, { sub: 'd', role: 'device' });
    device.send({ type: 'telemetry', data: { blob: 'x'.repeat(900) } });
    expect(await device.roundTrip()).toEqual([]);
    device.send({ type: 'telemetry', data: { blob: 'x'.repeat(2000) } });
    expect(await device.closed).toEqual({ code: 1009, reason: 'message too big' });
    expect(await valueOf(edge.metrics.disconnects, { code: '1009', transport: 'ws' })).toBe(1);
  });

  it('the message rate limit answers rate_limited, then closes with 1008', async () => {
    const edge = await edgeWith({ ratePerSec: 1, rateBurst: 3, rateCloseAfter: 3 });
    const device = await connect(edge, { sub: 'd', role: 'device' });
    for (let i = 0; i < 6; i++) device.send({ type: 'ping', id: `p${i}` });
    const received = [
      await device.next(),
      await device.next(),
      await device.next(),
      await device.next(),
      await device.next(),
    ];
    expect(received.map((m) => m.type)).toEqual(['pong', 'pong', 'pong', 'error', 'error']);
    expect(received[3]).toMatchObject({ code: 'rate_limited' });
    expect(await device.closed).toEqual({ code: 1008, reason: 'rate limit exceeded' });
    expect(await valueOf(edge.metrics.rateLimited)).toBe(3);
  });

  it('at most maxConnections sockets; the next upgrade gets 503 node_full', async () => {
    const edge = await edgeWith({ maxConnections: 2 });
    await connect(edge, { sub: 'a', role: 'device' });
    await connect(edge, { sub: 'b', role: 'device' });
    const res = await refusedUpgrade(
      `${edge.url}?token=${mintToken({ sub: 'c', role: 'device' })}`,
    );
    expect(res.status).toBe(503);
    expect(res.body).toMatchObject({ error: { code: 'node_full' } });
    expect(res.headers['retry-after']).toBe('5');
    expect(await valueOf(edge.metrics.upgradeRefusals, { reason: 'node_full' })).toBe(1);
  });

  it('an MQTT socket waiting for its CONNECT counts against maxConnections (it needs no token)', async () => {
    const edge = await edgeWith({ maxConnections: 2 });
    const idle = [0, 1].map(() => new WebSocket(`ws://127.0.0.1:${edge.port}/mqtt`, 'mqtt'));
    await Promise.all(idle.map((ws) => new Promise((resolve) => ws.once('open', resolve))));
    const res = await refusedUpgrade(
      `${edge.url}?token=${mintToken({ sub: 'c', role: 'device' })}`,
    );
    expect([res.status, res.body]).toMatchObject([503, { error: { code: 'node_full' } }]);
    // One leaves: its place is free again.
    const closed = new Promise((resolve) => idle[0]?.once('close', resolve));
    idle[0]?.close();
    await closed;
    await waitFor('its place freed', async () => {
      const device = new WebSocket(`${edge.url}?token=${mintToken({ sub: 'd', role: 'device' })}`);
      const opened = await new Promise<boolean>((resolve) => {
        device.once('open', () => resolve(true));
        device.once('unexpected-response', () => resolve(false));
      });
      device.terminate();
      return opened;
    });
    idle[1]?.terminate();
  });

  it('at most maxSubscriptions patterns per connection', async () => {
    const edge = await edgeWith({ maxSubscriptions: 2 });
    const dashboard = await connect(edge, { sub: 'ops', role: 'dashboard' });
    dashboard.send({ type: 'subscribe', id: 'a', topics: ['devices/1/#', 'devices/2/#'] });
    expect(await dashboard.next()).toEqual({ type: 'ack', id: 'a' });
    dashboard.send({ type: 'subscribe', id: 'b', topics: ['devices/3/#'] });
    expect(await dashboard.next()).toMatchObject({
      type: 'error',
      code: 'too_many_subscriptions',
      ref: 'b',
    });
  });

  it.each([true, false])(
    'permessage-deflate negotiated only when enabled (%s)',
    async (compression) => {
      const edge = await edgeWith({ compression });
      const client = await connect(edge, { sub: 'd', role: 'device' }, { perMessageDeflate: true });
      expect(client.ws.extensions.includes('permessage-deflate')).toBe(compression);
    },
  );

  it('pings idle clients and closes one that never answers', async () => {
    const edge = await edgeWith({ idleTimeoutSec: 8 });
    const token = mintToken({ sub: 'quiet', role: 'device' });
    const ws = new WebSocket(`${edge.url}?token=${token}`, { autoPong: false });
    const pinged = new Promise<void>((resolve) => ws.once('ping', () => resolve()));
    const closed = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)));
    await pinged;
    expect(await closed).toBe(1006);
    expect(edge.server.connectionCount).toBe(0);
  }, 30_000);
});

/** Opens a dashboard subscribed to devices/#, whose socket the test can stop reading. */
async function slowReader(edge: TestEdge): Promise<{ client: TestClient; socket: Socket }> {
  let socket: Socket | undefined;
  const client = new TestClient(
    `${edge.url}?token=${mintToken({ sub: 'slow', role: 'dashboard' })}`,
  );
  client.ws.once('upgrade', (res: IncomingMessage) => {
    socket = res.socket as Socket;
  });
  await client.opened;
  await client.next();
  client.send({ type: 'subscribe', id: 's', topics: ['devices/#'] });
  await client.next();
  clients.push(client);
  return { client, socket: socket as Socket };
}

describe('slow readers (backpressure)', () => {
  // 16 MiB: more than loopback's socket buffers hold, so the rest piles up in the edge.
  const MESSAGES = 2048;
  const blob = 'x'.repeat(8 * 1024);

  async function flood(edge: TestEdge): Promise<TestClient> {
    const service = await connect(edge, { sub: 'svc', role: 'service' });
    for (let i = 0; i < MESSAGES; i++) {
      service.send({ type: 'publish', topic: 'devices/d/telemetry', data: { i, blob } });
    }
    await service.roundTrip();
    return service;
  }

  it('policy close: the slow reader is disconnected, the publisher is not', async () => {
    const edge = await edgeWith({
      maxBackpressureBytes: 64 * 1024,
      backpressurePolicy: 'close',
      ratePerSec: 100_000,
      rateBurst: 100_000,
    });
    const { client, socket } = await slowReader(edge);
    socket.pause();
    const service = await flood(edge);
    socket.resume();
    // uWS 20.30 cuts a slow reader without a close frame.
    expect(await client.closed).toEqual({ code: 1006, reason: '' });
    let received = 0;
    while (client.pending > 0) if ((await client.next()).type === 'message') received++;
    expect(received).toBeLessThan(MESSAGES);
    expect(edge.server.connectionCount).toBe(1);
    expect(await service.roundTrip()).toEqual([]);
  }, 30_000);

  it('policy drop: the slow reader stays connected and misses messages', async () => {
    const edge = await edgeWith({
      maxBackpressureBytes: 64 * 1024,
      backpressurePolicy: 'drop',
      ratePerSec: 100_000,
      rateBurst: 100_000,
    });
    const { client, socket } = await slowReader(edge);
    socket.pause();
    await flood(edge);
    socket.resume();
    // Pongs sent while the edge still holds a backlog are dropped too, so ping after every
    // message: the first pong proves the backlog is gone.
    let received = 0;
    for (let k = 0; ; k++) {
      const message = await client.next();
      if (message.type === 'pong') break;
      if (message.type === 'message') received++;
      client.send({ type: 'ping', id: `k${k}` });
    }
    expect(received).toBeGreaterThan(0);
    expect(received).toBeLessThan(MESSAGES);
    expect(edge.server.connectionCount).toBe(2);
  }, 30_000);
});

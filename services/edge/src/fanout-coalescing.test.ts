/**
 * Fan-out writes each subscriber's messages of a tick together, not one segment per delivery
 * (transports/tick-publisher.ts). Observed from outside: the TCP segments each subscriber's
 * socket received, read with `ss -ti` (iproute2), for a burst of publishes that uWS reads in one
 * go. Counting segments, not time, keeps it independent of the machine's load.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { connect, type Socket } from 'node:net';
import { promisify } from 'node:util';

import { afterEach, describe, expect, it } from 'vitest';

import { TestClient, mintToken, startTestEdge, type TestEdge } from './test-support.js';

const run = promisify(execFile);
const BURST = 256;
const SUBSCRIBERS = 3;

const edges: TestEdge[] = [];
const clients: TestClient[] = [];
const sockets: Socket[] = [];

afterEach(() => {
  for (const c of clients.splice(0)) c.ws.terminate();
  for (const s of sockets.splice(0)) s.destroy();
  for (const e of edges.splice(0)) e.close();
});

/** A client frame masked with a zero key (the payload stays as it is, RFC 6455 5.3). */
function clientFrame(text: string): Buffer {
  const payload = Buffer.from(text);
  if (payload.length >= 126) throw new Error('test frames stay under 126 bytes');
  return Buffer.concat([Buffer.from([0x81, 0x80 | payload.length, 0, 0, 0, 0]), payload]);
}

/** A device on a bare TCP socket, so a whole burst of frames goes out in one write. */
function rawDevice(port: number, token: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () =>
      socket.write(
        `GET /ws?token=${token} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n` +
          `Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\n` +
          `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\n\r\n`,
      ),
    );
    sockets.push(socket);
    let head = '';
    socket.on('data', (chunk: Buffer) => {
      head += chunk.toString('latin1');
      // The welcome frame follows the 101 head.
      if (head.includes('\r\n\r\n') && head.includes('welcome')) resolve(socket);
    });
    socket.once('error', reject);
  });
}

/** Segments the socket with this local port has received so far (`ss -ti`, iproute2). */
async function segmentsIn(localPort: number): Promise<number> {
  const { stdout } = await run('ss', [
    '-tinH',
    'state',
    'established',
    `( sport = :${localPort} )`,
  ]);
  const match = stdout.match(/segs_in:(\d+)/);
  if (!match) throw new Error(`no socket with local port ${localPort} in: ${stdout}`);
  return Number(match[1]);
}

async function subscriber(edge: TestEdge, sub: string): Promise<[TestClient, number]> {
  const client = new TestClient(`${edge.url}?token=${mintToken({ sub, role: 'dashboard' })}`);
  const localPort = new Promise<number>((resolve) =>
    client.ws.once('upgrade', (response: IncomingMessage) => resolve(response.socket.localPort!)),
  );
  clients.push(client);
  await client.opened;
  expect((await client.next()).type).toBe('welcome');
  client.send({ type: 'subscribe', id: 's', topics: ['devices/d1/telemetry'] });
  expect(await client.next()).toMatchObject({ type: 'ack', id: 's' });
  return [client, await localPort];
}

describe('fan-out coalescing', () => {
  it('a burst of publishes reaches each subscriber in a few writes, all of it, in order', async () => {
    const edge = await startTestEdge({ limits: { ratePerSec: 100_000, rateBurst: 100_000 } });
    edges.push(edge);
    const subscribers = await Promise.all(
      Array.from({ length: SUBSCRIBERS }, (_, i) => subscriber(edge, `dash-${i}`)),
    );
    const device = await rawDevice(edge.port, mintToken({ sub: 'd1', role: 'device' }));
    const before = await Promise.all(subscribers.map(([, port]) => segmentsIn(port)));

    const burst = Array.from({ length: BURST }, (_, seq) =>
      clientFrame(JSON.stringify({ type: 'telemetry', data: { seq } })),
    );
    device.write(Buffer.concat(burst));

    for (const [client] of subscribers) {
      for (let seq = 0; seq < BURST; seq++) {
        expect(await client.next()).toMatchObject({ type: 'message', data: { seq } });
      }
    }
    const after = await Promise.all(subscribers.map(([, port]) => segmentsIn(port)));
    const segments = after.map((count, i) => count - before[i]!);
    // uWS drains a subscriber every 32 queued messages: 256 deliveries make 8 writes when they
    // are coalesced, and ~256 when each delivery is its own send(). Slack for a split read.
    for (const count of segments) expect(count).toBeLessThanOrEqual(BURST / 32 + 8);
  });

  it('a direct message to a subscriber never overtakes a delivery published before it', async () => {
    const edge = await startTestEdge();
    edges.push(edge);
    const device = await TestClient.open(edge.url, mintToken({ sub: 'd1', role: 'device' }));
    clients.push(device);
    device.send({ type: 'subscribe', id: 's', topics: ['devices/d1/telemetry'] });
    expect(await device.next()).toMatchObject({ type: 'ack', id: 's' });
    // Without a sink the ack goes out in the same callback as the publish it answers.
    for (let i = 0; i < 5; i++) {
      device.send({ type: 'telemetry', id: `t${i}`, data: { i } });
      expect(await device.next()).toMatchObject({ type: 'message', data: { i } });
      expect(await device.next()).toMatchObject({ type: 'ack', id: `t${i}` });
    }
  });
});

import { FleetwireClient, type WebSocketConstructor } from '@fleetwire/client';
import type { DeliveryMessage } from '@fleetwire/protocol';
import { waitFor } from '@fleetwire/testkit';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';

import { mintToken, startTestEdge, type TestEdge, type TokenClaims } from './test-support.js';

// The SDK's gateway and stream support against a real edge node.
const edges: TestEdge[] = [];
const clients: FleetwireClient[] = [];

function client(edge: TestEdge, claims: TokenClaims, format: 'json' | 'msgpack' = 'json') {
  const c = new FleetwireClient({
    url: edge.url,
    token: mintToken(claims),
    WebSocket: WebSocket as unknown as WebSocketConstructor,
    backoff: { initialDelayMs: 20, maxDelayMs: 200 },
    format,
  });
  clients.push(c);
  return c;
}

afterEach(() => {
  for (const c of clients.splice(0)) c.close();
  for (const e of edges.splice(0)) e.close();
});

const gatewayClaims: TokenClaims = {
  sub: 'gw-sdk',
  role: 'gateway',
  subdevices: { ids: ['lamp', 'lock', 'mic'] },
};

describe('the SDK as a gateway', () => {
  it('sub-devices send, get their own commands (acked for them), and come back after a reconnect', async () => {
    const edge = await startTestEdge();
    edges.push(edge);
    const gateway = client(edge, gatewayClaims, 'msgpack');
    await gateway.connect();
    const lamp = gateway.subDevice('lamp');
    const lock = gateway.subDevice('lock');
    await Promise.all([lamp.attached, lock.attached]);
    lamp.onCommand('on', (command) => ({ lit: command.params }));
    lock.onCommand('*', () => {
      throw new Error('jammed');
    });
    const dashboard = client(edge, { sub: 'ops', role: 'dashboard' });
    const seen: DeliveryMessage[] = [];
    dashboard.on('message', (m) => seen.push(m));
    await dashboard.connect();
    await dashboard.subscribe(['devices/+/telemetry']);
    await lamp.telemetry({ watts: 9 }, { reliable: true });
    await waitFor('the lamp’s telemetry', () => seen.length === 1);
    expect(seen[0]).toMatchObject({ from: 'lamp', via: 'gw-sdk', data: { watts: 9 } });
    expect(await dashboard.command('lamp', 'on', 80)).toEqual({ lit: 80 });
    await expect(dashboard.command('lock', 'open')).rejects.toMatchObject({
      reason: 'rejected',
      message: 'jammed',
    });
    // The edge drops every socket; the SDK reconnects and attaches its sub-devices again.
    const bothDown = Promise.all([gateway.once('close'), dashboard.once('close')]);
    edge.server.close();
    edges.pop();
    await bothDown;
    const again = await startTestEdge({ env: { FLEETWIRE_PORT: String(edge.port) } });
    edges.push(again);
    await waitFor(
      'the gateway back',
      () => gateway.state === 'connected' && again.server.stateSizes().devices === 3,
    );
    await waitFor('the dashboard back', () => dashboard.state === 'connected');
    expect(await dashboard.command('lamp', 'on', 1)).toEqual({ lit: 1 });
    await lock.detach();
    await expect(dashboard.command('lock', 'open')).rejects.toMatchObject({ reason: 'offline' });
  });

  it('a refused sub-device rejects `attached` with the edge’s code', async () => {
    const edge = await startTestEdge();
    edges.push(edge);
    const gateway = client(edge, gatewayClaims);
    await gateway.connect();
    await expect(gateway.subDevice('stranger').attached).rejects.toMatchObject({
      code: 'SERVER_ERROR',
      reason: 'subdevice_forbidden',
    });
  });

  it('a sub-device’s stream reaches a listener through the `chunk` event, in order', async () => {
    const edge = await startTestEdge();
    edges.push(edge);
    const listener = client(edge, { sub: 'ops', role: 'dashboard' });
    const chunks: { topic: string; seq: number; payload: Uint8Array }[] = [];
    const opened: DeliveryMessage[] = [];
    listener.on('chunk', (c) => chunks.push(c));
    listener.on('message', (m) => opened.push(m));
    await listener.connect();
    await listener.subscribe(['devices/mic/streams/#']);
    const gateway = client(edge, gatewayClaims);
    await gateway.connect();
    const mic = gateway.subDevice('mic');
    await mic.attached;
    const stream = await mic.openStream('audio', { meta: { rate: 16000 } });
    for (let n = 0; n < 10; n++) expect(stream.write(Uint8Array.of(n, n, n))).toBe(true);
    await stream.close();
    await waitFor('every chunk and the close', () => chunks.length === 10 && opened.length === 2);
    expect(chunks.map((c) => [c.topic, c.seq, [...c.payload]])).toEqual(
      [...Array(10).keys()].map((n) => ['devices/mic/streams/audio', n, [n, n, n]]),
    );
    expect(opened.map((m) => m.data)).toEqual([
      { state: 'open', meta: { rate: 16000 } },
      { state: 'closed', chunks: 10 },
    ]);
    expect(stream.write(Uint8Array.of(1))).toBe(false);
  });
});

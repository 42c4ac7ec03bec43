import { encodeStreamChunk } from '@fleetwire/protocol';
import { expect, it } from 'vitest';

import type { ClusterUnderTest } from './cluster-scenarios.js';
import {
  httpGet,
  httpRequest,
  mintToken,
  type TestClient,
  expectRelayedChunks,
} from './test-support.js';

export interface GatewayClusterUnderTest extends ClusterUnderTest {
  /** A third node that the test may let die (its presence stops being renewed). */
  c: ClusterUnderTest['a'];
  ttlMs: number;
}

const ops = { sub: 'ops', role: 'dashboard' } as const;

function gatewayClaims(sub: string, ids: string[], pattern?: string) {
  return {
    sub,
    role: 'gateway' as const,
    subdevices: { ids, ...(pattern === undefined ? {} : { pattern }) },
  };
}

/** Sends attach for each sub-device and waits for every ack. */
async function attach(gateway: TestClient, devices: string[]): Promise<void> {
  for (const device of devices) gateway.send({ type: 'attach', id: `a-${device}`, device });
  const acks = [];
  for (let i = 0; i < devices.length; i++) acks.push(await gateway.next());
  expect(acks).toEqual(devices.map((device) => ({ type: 'ack', id: `a-${device}` })));
}

async function deviceList(port: number): Promise<Record<string, Record<string, unknown>>> {
  const answer = await httpGet(port, '/api/devices', mintToken(ops));
  expect(answer.status).toBe(200);
  const { devices } = JSON.parse(answer.body) as { devices: Record<string, unknown>[] };
  return Object.fromEntries(devices.map((d) => [d['deviceId'] as string, d]));
}

/**
 * Gateways with sub-devices across two (three) edge nodes, whatever carries messages between
 * them: the in-memory bus (unit tier) and Redis (integration tier).
 */
export function gatewayScenarios(cluster: () => GatewayClusterUnderTest): void {
  it('a command to a sub-device whose gateway is on the other node is acked (WebSocket and HTTP, JSON and MessagePack)', async () => {
    const { a, b } = cluster();
    for (const format of ['json', 'msgpack'] as const) {
      const lamp = `lamp-${format}`;
      const gateway = await cluster().connect(a, gatewayClaims(`gw-${format}`, [lamp]), format);
      await attach(gateway, [lamp]);
      const dashboard = await cluster().connect(b, ops);
      dashboard.send({ type: 'command', id: 'c1', target: lamp, name: 'on', params: { level: 3 } });
      expect(await gateway.next()).toEqual({
        type: 'command',
        id: 'c1',
        from: 'ops',
        name: 'on',
        params: { level: 3 },
        device: lamp,
      });
      gateway.ws.send(
        format === 'json'
          ? JSON.stringify({ type: 'ack', id: 'c1', device: lamp, result: { level: 3 } })
          : (await import('@msgpack/msgpack')).encode({
              type: 'ack',
              id: 'c1',
              device: lamp,
              result: { level: 3 },
            }),
      );
      expect(await dashboard.next()).toEqual({ type: 'ack', id: 'c1', result: { level: 3 } });

      const service = mintToken({ sub: 'backend', role: 'service' });
      const answered = httpRequest(b.port, 'POST', '/api/commands', service, {
        id: 'h1',
        target: lamp,
        name: 'off',
      });
      expect(await gateway.next()).toMatchObject({ type: 'command', id: 'h1', device: lamp });
      gateway.ws.send(
        format === 'json'
          ? JSON.stringify({ type: 'nack', id: 'h1', device: lamp, reason: 'busy' })
          : (await import('@msgpack/msgpack')).encode({
              type: 'nack',
              id: 'h1',
              device: lamp,
              reason: 'busy',
            }),
      );
      const response = await answered;
      expect([response.status, JSON.parse(response.body)]).toEqual([
        409,
        { status: 'nack', type: 'nack', id: 'h1', reason: 'busy' },
      ]);
    }
    // The gateway itself is a device too: a command to it carries no `device`.
    const gateway = await cluster().connect(a, gatewayClaims('gw-self', ['x-1']));
    const dashboard = await cluster().connect(b, ops);
    dashboard.send({ type: 'command', id: 'c2', target: 'gw-self', name: 'reboot' });
    expect(await gateway.next()).toEqual({
      type: 'command',
      id: 'c2',
      from: 'ops',
      name: 'reboot',
    });
    gateway.send({ type: 'ack', id: 'c2' });
    expect(await dashboard.next()).toEqual({ type: 'ack', id: 'c2' });
    expect(a.server.stateSizes().pendingCommands).toBe(0);
    expect(b.server.stateSizes().pendingCommands).toBe(0);
  });

  it('telemetry, events and status for a sub-device come from the sub-device, via the gateway; the device list shows both', async () => {
    const { a, b } = cluster();
    const watcher = await cluster().connect(b, ops);
    watcher.send({
      type: 'subscribe',
      id: 's',
      topics: ['devices/+/telemetry', 'devices/+/status', 'devices/+/events/#'],
    });
    expect(await watcher.next()).toEqual({ type: 'ack', id: 's' });
    const gateway = await cluster().connect(a, gatewayClaims('gw-t', [], 'flat7-*'));
    await attach(gateway, ['flat7-oven']);
    gateway.send({ type: 'telemetry', id: 't1', device: 'flat7-oven', data: { celsius: 180 } });
    expect(await gateway.next()).toEqual({ type: 'ack', id: 't1' });
    gateway.send({ type: 'event', device: 'flat7-oven', name: 'door.open' });
    gateway.send({ type: 'status', device: 'flat7-oven', data: { battery: 90 } });
    gateway.send({ type: 'telemetry', data: { uptime: 5 } });
    expect(await watcher.next()).toMatchObject({
      kind: 'telemetry',
      topic: 'devices/flat7-oven/telemetry',
      from: 'flat7-oven',
      via: 'gw-t',
      id: 't1',
      data: { celsius: 180 },
    });
    expect(await watcher.next()).toMatchObject({
      kind: 'event',
      topic: 'devices/flat7-oven/events/door.open',
      from: 'flat7-oven',
      via: 'gw-t',
    });
    expect(await watcher.next()).toMatchObject({
      kind: 'status',
      topic: 'devices/flat7-oven/status',
      from: 'flat7-oven',
      via: 'gw-t',
    });
    const own = await watcher.next();
    expect(own).toMatchObject({ kind: 'telemetry', topic: 'devices/gw-t/telemetry', from: 'gw-t' });
    expect(own).not.toHaveProperty('via');
    const listed = await deviceList(b.port);
    expect(listed['flat7-oven']).toMatchObject({ online: true, node: 'node-a', gateway: 'gw-t' });
    expect(listed['gw-t']).toMatchObject({ online: true, node: 'node-a' });
    expect(listed['gw-t']).not.toHaveProperty('gateway');
  });

  it('a device outside the token’s list is refused, as is one not attached, and a plain device speaking for another', async () => {
    const { a } = cluster();
    const gateway = await cluster().connect(a, gatewayClaims('gw-r', ['ok-1', 'ok-2']));
    gateway.send({ type: 'attach', id: 'x', device: 'intruder' });
    expect(await gateway.next()).toEqual({
      type: 'error',
      code: 'subdevice_forbidden',
      message: "this gateway's token does not name intruder",
      ref: 'x',
    });
    gateway.send({ type: 'telemetry', id: 'y', device: 'intruder', data: {} });
    expect(await gateway.next()).toMatchObject({
      type: 'error',
      code: 'subdevice_forbidden',
      ref: 'y',
    });
    gateway.send({ type: 'telemetry', id: 'z', device: 'ok-2', data: {} });
    expect(await gateway.next()).toMatchObject({
      type: 'error',
      code: 'subdevice_not_attached',
      ref: 'z',
    });
    gateway.send({ type: 'detach', id: 'w', device: 'ok-2' });
    expect(await gateway.next()).toMatchObject({
      type: 'error',
      code: 'subdevice_not_attached',
      ref: 'w',
    });
    gateway.send({ type: 'attach', id: 'self', device: 'gw-r' });
    expect(await gateway.next()).toMatchObject({
      type: 'error',
      code: 'subdevice_forbidden',
      ref: 'self',
    });
    const device = await cluster().connect(a, { sub: 'plain-1', role: 'device' });
    device.send({ type: 'telemetry', id: 'p', device: 'ok-1', data: {} });
    expect(await device.next()).toMatchObject({
      type: 'error',
      code: 'subdevice_forbidden',
      ref: 'p',
    });
    device.send({ type: 'attach', id: 'q', device: 'ok-1' });
    expect(await device.next()).toMatchObject({ type: 'error', code: 'not_allowed', ref: 'q' });
    // Nobody became a device through any of it.
    const dashboard = await cluster().connect(a, ops);
    dashboard.send({ type: 'command', id: 'c', target: 'intruder', name: 'x' });
    expect(await dashboard.next()).toEqual({ type: 'nack', id: 'c', reason: 'offline' });
  });

  it('a gateway drop takes all its sub-devices offline (events and the device list); detach takes one', async () => {
    const { a, b } = cluster();
    const subs = ['room-1', 'room-2', 'room-3'];
    const watcher = await cluster().connect(b, ops);
    // This test's devices only: the nodes are shared by the suite, and earlier tests' clients go
    // offline (their events published once their records are written) as this one starts.
    const topics = ['gw-d', ...subs].map((device) => `devices/${device}/presence`);
    watcher.send({ type: 'subscribe', id: 's', topics });
    await watcher.next();
    const gateway = await cluster().connect(a, gatewayClaims('gw-d', subs));
    expect(await watcher.next()).toMatchObject({
      from: 'gw-d',
      data: { online: true, node: 'node-a' },
    });
    await attach(gateway, subs);
    for (const sub of subs) {
      expect(await watcher.next()).toMatchObject({
        from: sub,
        data: { online: true, node: 'node-a', gateway: 'gw-d' },
      });
    }
    gateway.send({ type: 'detach', id: 'd', device: 'room-3' });
    expect(await gateway.next()).toEqual({ type: 'ack', id: 'd' });
    expect(await watcher.next()).toMatchObject({
      from: 'room-3',
      data: { online: false, node: 'node-a', gateway: 'gw-d' },
    });
    gateway.ws.terminate();
    const offline = [];
    for (let i = 0; i < 3; i++) offline.push(await watcher.next());
    expect(
      offline.map((m) => [m['from'], (m['data'] as { online: boolean }).online]).sort(),
    ).toEqual([
      ['gw-d', false],
      ['room-1', false],
      ['room-2', false],
    ]);
    const listed = await deviceList(b.port);
    for (const sub of subs) expect(listed[sub]).toMatchObject({ online: false, gateway: 'gw-d' });
    expect(listed['gw-d']).toMatchObject({ online: false });
    // Nothing left behind on the gateway's node for its sub-devices.
    const dashboard = await cluster().connect(b, ops);
    dashboard.send({ type: 'command', id: 'c', target: 'room-1', name: 'x' });
    expect(await dashboard.next()).toEqual({ type: 'nack', id: 'c', reason: 'offline' });
  });

  it('a sub-device that connects by itself elsewhere is detached from its gateway, which stays connected', async () => {
    const { a, b } = cluster();
    const gateway = await cluster().connect(a, gatewayClaims('gw-m', ['cam-1', 'cam-2']));
    await attach(gateway, ['cam-1', 'cam-2']);
    await cluster().connect(b, { sub: 'cam-1', role: 'device' });
    // A's renewal lets go of a device another node holds, even if the takeover raced.
    await a.server.presenceTracker.tick();
    expect(await gateway.next()).toEqual({ type: 'detached', device: 'cam-1', reason: 'replaced' });
    gateway.send({ type: 'telemetry', id: 't', device: 'cam-2', data: { ok: true } });
    expect(await gateway.next()).toEqual({ type: 'ack', id: 't' });
    gateway.send({ type: 'telemetry', id: 'u', device: 'cam-1', data: {} });
    expect(await gateway.next()).toMatchObject({ type: 'error', code: 'subdevice_not_attached' });
  });

  it('a sub-device’s binary stream on one node reaches a listener on the other, in order, byte for byte', async () => {
    const { a, b } = cluster();
    const listener = await cluster().connect(b, ops, 'msgpack');
    listener.send({ type: 'subscribe', id: 's', topics: ['devices/+/streams/#'] });
    expect(await listener.next()).toEqual({ type: 'ack', id: 's' });
    const gateway = await cluster().connect(a, gatewayClaims('gw-s', ['bell-1']));
    await attach(gateway, ['bell-1']);
    gateway.send({
      type: 'stream_open',
      id: 'o',
      channel: 3,
      name: 'audio',
      device: 'bell-1',
      meta: { rate: 16000 },
    });
    expect(await gateway.next()).toEqual({ type: 'ack', id: 'o' });
    expect(await listener.next()).toMatchObject({
      kind: 'stream',
      topic: 'devices/bell-1/streams/audio',
      from: 'bell-1',
      via: 'gw-s',
      data: { state: 'open', meta: { rate: 16000 } },
    });
    const sent = Array.from({ length: 40 }, (_, n) =>
      Uint8Array.from({ length: 320 }, (_, i) => (n * 7 + i) & 0xff),
    );
    for (const payload of sent) gateway.ws.send(encodeStreamChunk(3, payload));
    gateway.send({ type: 'stream_close', id: 'c', channel: 3 });
    expect(await gateway.next()).toEqual({ type: 'ack', id: 'c' });
    await expectRelayedChunks(listener, 'devices/bell-1/streams/audio', sent);
    expect(await listener.next()).toMatchObject({
      kind: 'stream',
      data: { state: 'closed', chunks: 40 },
    });
  });

  it('an edge that dies takes its gateway and sub-devices offline, announced by a surviving node', async () => {
    const { a, b, c, ttlMs } = cluster();
    const watcher = await cluster().connect(b, ops);
    watcher.send({ type: 'subscribe', id: 's', topics: ['devices/+/presence'] });
    await watcher.next();
    // The nodes are shared by the whole suite: presence events of earlier tests' clients (gone
    // offline as they were terminated, or reaped with node C below) may arrive in between.
    const ours = ['gw-x', 'hall-1', 'hall-2'];
    const next = async () => {
      let event = await watcher.next();
      while (!ours.includes(event['from'] as string)) event = await watcher.next();
      return event;
    };
    const gateway = await cluster().connect(c, gatewayClaims('gw-x', ['hall-1', 'hall-2']));
    await attach(gateway, ['hall-1', 'hall-2']);
    const online = [];
    for (let i = 0; i < 3; i++) online.push(await next());
    expect(online.every((m) => (m['data'] as { online: boolean }).online)).toBe(true);
    // Node C stops renewing (it died); A and B renew; past one TTL, B reaps C.
    const later = Date.now() + ttlMs + 1_000;
    await a.server.presenceTracker.tick(later);
    await b.server.presenceTracker.tick(later);
    const offline = [];
    for (let i = 0; i < 3; i++) offline.push(await next());
    expect(
      offline.map((m) => [m['from'], (m['data'] as { online: boolean }).online]).sort(),
    ).toEqual([
      ['gw-x', false],
      ['hall-1', false],
      ['hall-2', false],
    ]);
    const listed = await deviceList(b.port);
    expect(listed['hall-1']).toMatchObject({ online: false, gateway: 'gw-x' });
  });
}

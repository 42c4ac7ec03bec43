import { MemoryBusHub, MemoryPresence, type PresenceStore } from '@fleetwire/bus';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

import {
  TestClient,
  TestClientPool,
  httpRequest,
  mintToken,
  startTestEdge,
  valueOf,
  type TestEdge,
} from './test-support.js';
import { MqttTestClient } from './transports/mqtt/mqtt-test-client.js';

const clients = new TestClientPool();
const { connect } = clients;
const ops = { sub: 'ops', role: 'dashboard' } as const;
const service = mintToken({ sub: 'backend', role: 'service' });

describe('a tenant at its limit of devices (FLEETWIRE_MAX_DEVICES_PER_TENANT)', () => {
  let edge: TestEdge;
  beforeAll(async () => {
    const hub = new MemoryBusHub();
    edge = await startTestEdge({
      bus: hub.connect('node-a'),
      presence: new MemoryPresence(30_000, { maxDevicesPerTenant: 3 }),
    });
  });
  afterEach(() => clients.terminateAll());
  afterAll(() => edge.close());

  it('refuses a device new to it (4003, no welcome, no presence event), not one it knows; forgetting an offline device makes room', async () => {
    const watcher = await connect(edge, ops);
    watcher.send({ type: 'subscribe', id: 's', topics: ['devices/+/presence', 'devices/d2/#'] });
    expect(await watcher.next()).toMatchObject({ type: 'ack', id: 's' });
    const gateway = await connect(edge, {
      sub: 'gw',
      role: 'gateway',
      subdevices: { ids: [], pattern: 'sensor-*' },
    });
    const d1 = await connect(edge, { sub: 'd1', role: 'device' });
    gateway.send({ type: 'attach', id: 'a1', device: 'sensor-1' });
    expect(await gateway.next()).toEqual({ type: 'ack', id: 'a1' });
    const online = [];
    for (let i = 0; i < 3; i++) online.push(await watcher.next());
    expect(online.map((m) => m['topic'])).toEqual([
      'devices/gw/presence',
      'devices/d1/presence',
      'devices/sensor-1/presence',
    ]);

    // The tenant knows three devices: a fourth is refused, by a gateway's attach or its own socket.
    gateway.send({ type: 'attach', id: 'a2', device: 'sensor-2' });
    expect(await gateway.next()).toMatchObject({ type: 'error', code: 'device_limit', ref: 'a2' });
    gateway.send({ type: 'telemetry', device: 'sensor-2', data: { t: 1 } });
    expect(await gateway.roundTrip()).toMatchObject([
      { type: 'error', code: 'subdevice_not_attached' },
    ]);
    const refused = new TestClient(`${edge.url}?token=${mintToken({ sub: 'd2', role: 'device' })}`);
    expect(await refused.closed).toEqual({ code: 4003, reason: 'tenant device limit reached' });
    expect(refused.pending).toBe(0);
    expect(await valueOf(edge.metrics.protocolErrors, { code: 'device_limit' })).toBe(1);
    // Over MQTT the CONNACK says so: 5.0 "quota exceeded", 3.1.1 "server unavailable".
    for (const [protocolVersion, code] of [
      [5, 0x97],
      [4, 0x03],
    ] as const) {
      const answer = await MqttTestClient.connect(
        edge.port,
        { sub: 'd2', role: 'device' },
        {
          protocolVersion,
          // Never accepted, so never published.
          will: {
            topic: 'devices/d2/status',
            payload: Buffer.from('{"gone":true}'),
            qos: 0,
            retain: false,
          },
        },
      ).then(
        async (client) => {
          await client.end();
          return 'accepted';
        },
        (error: { code?: number }) => error.code,
      );
      expect(answer).toBe(code);
    }
    expect(await valueOf(edge.metrics.mqttConnectRefusals, { reason: 'quota_exceeded' })).toBe(2);
    // Another tenant is not concerned.
    await connect(edge, { sub: 'd2', role: 'device', tenant: 'globex' });

    // A known device comes back; nothing was said about the refused ones.
    await d1.close();
    const again = await connect(edge, { sub: 'd1', role: 'device' });
    expect([await watcher.next(), await watcher.next()]).toMatchObject([
      { topic: 'devices/d1/presence', data: { online: false } },
      { topic: 'devices/d1/presence', data: { online: true } },
    ]);

    // Forgetting: service tokens only, never a connected device, then there is room again.
    const path = '/api/devices/sensor-1';
    const asDashboard = await httpRequest(edge.port, 'DELETE', path, mintToken(ops));
    expect([asDashboard.status, JSON.parse(asDashboard.body).error.code]).toEqual([
      403,
      'role_not_allowed',
    ]);
    const held = await httpRequest(edge.port, 'DELETE', path, service);
    expect([held.status, JSON.parse(held.body).error.code]).toEqual([409, 'device_connected']);
    gateway.send({ type: 'detach', id: 'x1', device: 'sensor-1' });
    expect(await gateway.next()).toEqual({ type: 'ack', id: 'x1' });
    const forgotten = await httpRequest(edge.port, 'DELETE', path, service);
    expect([forgotten.status, JSON.parse(forgotten.body)]).toEqual([
      200,
      { deviceId: 'sensor-1', forgotten: true },
    ]);
    const unknown = await httpRequest(edge.port, 'DELETE', path, service);
    expect([unknown.status, JSON.parse(unknown.body).error.code]).toEqual([404, 'not_found']);
    await connect(edge, { sub: 'd2', role: 'device' });
    await again.close();
  });
});

/** A store whose next answer to `markOnline` for a device is held until the test releases it. */
function lateAnswers(store: MemoryPresence): {
  store: PresenceStore;
  hold: (deviceId: string) => void;
  release: () => void;
} {
  const holding = new Set<string>();
  const held: (() => void)[] = [];
  const late = Object.create(store) as PresenceStore;
  late.markOnline = async (device, node, now) => {
    const answer = await store.markOnline(device, node, now);
    if (!holding.delete(device.deviceId)) return answer;
    return new Promise((resolve) => held.push(() => resolve(answer)));
  };
  return {
    store: late,
    hold: (deviceId) => holding.add(deviceId),
    release: () => held.splice(0).forEach((answer) => answer()),
  };
}

describe('a refusal answered late', () => {
  it('undoes only its own attach, not the same sub-device attached again meanwhile', async () => {
    const presence = lateAnswers(new MemoryPresence(30_000, { maxDevicesPerTenant: 2 }));
    const edge = await startTestEdge({
      bus: new MemoryBusHub().connect('node-a'),
      presence: presence.store,
    });
    try {
      const claims = {
        sub: 'gw',
        role: 'gateway',
        subdevices: { ids: [], pattern: 's-*' },
      } as const;
      const gateway = await connect(edge, { ...claims, subdevices: { ids: [], pattern: 's-*' } });
      gateway.send({ type: 'attach', id: 'a1', device: 's-1' });
      expect(await gateway.next()).toEqual({ type: 'ack', id: 'a1' });
      // The tenant is full: s-2's attach is refused, and the answer is held back.
      presence.hold('s-2');
      gateway.send({ type: 'attach', id: 'a2', device: 's-2' });
      gateway.send({ type: 'detach', id: 'x2', device: 's-2' });
      expect(await gateway.next()).toEqual({ type: 'ack', id: 'x2' });
      // Room is made, and s-2 attached again: admitted once the held answer is out.
      gateway.send({ type: 'detach', id: 'x1', device: 's-1' });
      expect(await gateway.next()).toEqual({ type: 'ack', id: 'x1' });
      const forgotten = await httpRequest(edge.port, 'DELETE', '/api/devices/s-1', service);
      expect(forgotten.status).toBe(200);
      gateway.send({ type: 'attach', id: 'a3', device: 's-2' });
      // The edge has taken a3 (its answer waits behind a2's) before a2's answer comes.
      expect(await gateway.roundTrip()).toEqual([]);
      presence.release();
      expect(await gateway.next()).toMatchObject({
        type: 'error',
        code: 'device_limit',
        ref: 'a2',
      });
      expect(await gateway.next()).toEqual({ type: 'ack', id: 'a3' });
      gateway.send({ type: 'telemetry', device: 's-2', data: { t: 1 } });
      expect(await gateway.roundTrip()).toEqual([]);
      expect(edge.server.stateSizes()).toMatchObject({ devices: 2 });
      expect(await valueOf(edge.metrics.subDevices)).toBe(1);

      // s-9 attached (refused, answered late), and meanwhile connected by itself, taking it
      // over: the late refusal lets go of nothing more, and counts nothing twice.
      presence.hold('s-9');
      gateway.send({ type: 'attach', id: 'a9', device: 's-9' });
      expect(await gateway.roundTrip()).toEqual([]);
      const itself = new TestClient(
        `${edge.url}?token=${mintToken({ sub: 's-9', role: 'device' })}`,
      );
      expect(await gateway.next()).toEqual({ type: 'detached', device: 's-9', reason: 'replaced' });
      presence.release();
      expect(await gateway.next()).toMatchObject({
        type: 'error',
        code: 'device_limit',
        ref: 'a9',
      });
      expect(await itself.closed).toMatchObject({ code: 4003 });
      expect(await valueOf(edge.metrics.subDevices)).toBe(1);
    } finally {
      clients.terminateAll();
      edge.close();
    }
  });
});

import { MemoryBusHub, MemoryPresence } from '@fleetwire/bus';
import type { TelemetryRecord } from '@fleetwire/protocol';
import { waitFor } from '@fleetwire/testkit';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

import {
  TestClient,
  TestClientPool,
  httpRequest,
  lateAnswers,
  mintToken,
  startTestEdge,
  valueOf,
  type TestEdge,
  type TestEdgeOptions,
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

/**
 * An edge whose presence answers are held on demand (lateAnswers) and whose telemetry sink
 * keeps what it is given.
 */
async function edgeWithLateAnswers(
  store: MemoryPresence,
  limits?: TestEdgeOptions['limits'],
): Promise<{
  edge: TestEdge;
  presence: ReturnType<typeof lateAnswers>;
  stored: TelemetryRecord[];
}> {
  const presence = lateAnswers(store);
  const stored: TelemetryRecord[] = [];
  const edge = await startTestEdge({
    bus: new MemoryBusHub().connect('node-a'),
    presence: presence.store,
    telemetrySink: { append: async (record) => void stored.push(record), flush: async () => {} },
    ...(limits ? { limits } : {}),
  });
  return { edge, presence, stored };
}

describe('a refusal answered late', () => {
  it('undoes only its own attach, not the same sub-device attached again meanwhile', async () => {
    const { edge, presence } = await edgeWithLateAnswers(
      new MemoryPresence(30_000, { maxDevicesPerTenant: 2 }),
    );
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

describe('frames a device sends before its welcome', () => {
  it('wait for its admission: a refused device has nothing taken, an admitted one has them handled after its welcome, in order; more than its rate burst close it (1008)', async () => {
    const { edge, presence, stored } = await edgeWithLateAnswers(
      new MemoryPresence(30_000, { maxDevicesPerTenant: 2 }),
    );
    const bytesIn = () => valueOf(edge.metrics.bytesIn, { transport: 'ws' });
    /** Opens a device socket whose admission is held, and sends it `frames` at once. */
    const early = async (sub: string, frames: (object | Buffer)[]) => {
      presence.hold(sub);
      const device = new TestClient(`${edge.url}?token=${mintToken({ sub, role: 'device' })}`);
      await device.opened;
      const before = await bytesIn();
      let bytes = 0;
      for (const frame of frames) {
        const data = Buffer.isBuffer(frame) ? frame : Buffer.from(JSON.stringify(frame));
        device.ws.send(data, { binary: Buffer.isBuffer(frame) });
        bytes += data.length;
      }
      await waitFor('the frames at the edge', async () => (await bytesIn()) - before >= bytes);
      return device;
    };
    const sent = [
      { type: 'telemetry', id: 't1', data: { n: 1 } },
      { type: 'stream_open', id: 'o1', channel: 1, name: 'audio' },
      Buffer.from([0xc1, 1, 7, 7]),
      { type: 'telemetry', id: 't2', data: { n: 2 } },
    ];
    try {
      const watcher = await connect(edge, ops);
      watcher.send({
        type: 'subscribe',
        id: 's',
        topics: ['devices/+/telemetry', 'devices/+/streams/#'],
      });
      expect(await watcher.next()).toMatchObject({ type: 'ack', id: 's' });
      await connect(edge, { sub: 'd1', role: 'device' });

      // d2 is admitted (the tenant has room for it): welcome first, then its frames in order.
      const admitted = await early('d2', sent);
      presence.release();
      expect((await admitted.next()).type).toBe('welcome');
      // (Telemetry is acked and published once the telemetry log has it: after the stream's.)
      const acks = [await admitted.next(), await admitted.next(), await admitted.next()];
      expect(acks.map((m) => [m.type, m['id']]).sort()).toEqual([
        ['ack', 'o1'],
        ['ack', 't1'],
        ['ack', 't2'],
      ]);
      expect(await admitted.roundTrip()).toEqual([]);
      const seen = await watcher.roundTrip();
      expect(seen.filter((m) => m['topic'] === 'devices/d2/streams/audio')).toMatchObject([
        { type: 'message', data: { state: 'open' } },
        { type: 'stream_frame', seq: 0 },
      ]);
      expect(
        seen.filter((m) => m['topic'] === 'devices/d2/telemetry').map((m) => m['data']),
      ).toEqual([{ n: 1 }, { n: 2 }]);
      expect(stored.map((r) => r.deviceId)).toEqual(['d2', 'd2']);

      // d3 is new to a full tenant: refused, and what it sent meanwhile was never handled.
      const refused = await early('d3', sent);
      presence.release();
      expect(await refused.closed).toEqual({ code: 4003, reason: 'tenant device limit reached' });
      expect(refused.pending).toBe(0);
      expect(await watcher.roundTrip()).toEqual([]);
      expect(stored).toHaveLength(2);

      // A client that does not wait at all: one frame more than its rate burst (100) before its
      // welcome closes it.
      const pings = Array.from({ length: 101 }, (_, i) => ({ type: 'ping', id: `p${i}` }));
      const flooding = await early('d1', pings.slice(0, 100));
      flooding.send(pings[100]);
      expect(await flooding.closed).toEqual({
        code: 1008,
        reason: 'too many messages before welcome',
      });
      presence.release();
    } finally {
      clients.terminateAll();
      edge.close();
    }
  });
});

describe("a gateway's messages for a sub-device whose attach is not answered yet", () => {
  it('an attach unanswered at every moment, for a long time: only what waits counts against the bound', async () => {
    const { edge, presence } = await edgeWithLateAnswers(new MemoryPresence(30_000), {
      ratePerSec: 10_000,
      rateBurst: 10_000,
    });
    try {
      const claims = { sub: 'hub', role: 'gateway', subdevices: { ids: [], pattern: 'l-*' } };
      const gateway = await connect(edge, claims as Parameters<typeof connect>[1]);
      const bytesIn = () => valueOf(edge.metrics.bytesIn, { transport: 'ws' });
      /** Attaches the device (its answer held) and sends a reading for it, once at the edge. */
      const announce = async (device: string, detach?: string): Promise<void> => {
        presence.hold(device);
        const before = await bytesIn();
        const frames = [
          ...(detach ? [{ type: 'detach', device: detach }] : []),
          { type: 'attach', id: `a-${device}`, device },
          { type: 'telemetry', device, data: { pad: 'x'.repeat(1024) } },
        ].map((f) => JSON.stringify(f));
        for (const frame of frames) gateway.ws.send(frame);
        const bytes = frames.reduce((sum, f) => sum + f.length, 0);
        await waitFor('the frames at the edge', async () => (await bytesIn()) - before >= bytes);
      };
      await announce('l-0');
      // Each turn the next device's attach waits before the last one's is answered: the queue
      // is never empty, and 300 KiB go through it (its bound is 256 KiB).
      for (let i = 1; i <= 300; i++) {
        await announce(`l-${i}`, i > 1 ? `l-${i - 2}` : undefined);
        presence.release(`l-${i - 1}`);
        expect(await gateway.next()).toEqual({ type: 'ack', id: `a-l-${i - 1}` });
      }
      expect(gateway.pending).toBe(0);
      presence.release();
      expect(await gateway.next()).toEqual({ type: 'ack', id: 'a-l-300' });
    } finally {
      clients.terminateAll();
      edge.close();
    }
  });

  it('a gateway announcing its devices and their first readings at once, without waiting for acks, has all of them handled', async () => {
    const { edge, presence, stored } = await edgeWithLateAnswers(new MemoryPresence(30_000));
    try {
      const claims = { sub: 'hub', role: 'gateway', subdevices: { ids: [], pattern: 'z-*' } };
      const gateway = await connect(edge, claims as Parameters<typeof connect>[1]);
      const ids = Array.from({ length: 45 }, (_, i) => `z-${i}`);
      for (const device of ids) {
        presence.hold(device);
        gateway.send({ type: 'attach', id: `a-${device}`, device });
        gateway.send({ type: 'telemetry', id: `t-${device}`, device, data: { on: true } });
      }
      await waitFor(
        'every attach at the edge',
        async () => (await valueOf(edge.metrics.subDevices)) === 45,
      );
      presence.release();
      const answers: Record<string, unknown>[] = [];
      for (let i = 0; i < 90; i++) answers.push(await gateway.next());
      expect(answers.every((m) => m.type === 'ack')).toBe(true);
      await waitFor('every reading stored', () => stored.length === 45);
      expect(new Set(stored.map((r) => r.deviceId))).toEqual(new Set(ids));
    } finally {
      clients.terminateAll();
      edge.close();
    }
  });

  it('wait for the answer, and what follows waits behind them: a refused one has nothing taken, an admitted one its messages handled after its ack, in order; past 256 KiB waiting it is closed (1008)', async () => {
    const { edge, presence, stored } = await edgeWithLateAnswers(
      new MemoryPresence(30_000, { maxDevicesPerTenant: 3 }),
      { ratePerSec: 10_000, rateBurst: 10_000 },
    );
    const bytesIn = () => valueOf(edge.metrics.bytesIn, { transport: 'ws' });
    try {
      const watcher = await connect(edge, ops);
      watcher.send({ type: 'subscribe', id: 's', topics: ['devices/#'] });
      expect(await watcher.next()).toMatchObject({ type: 'ack', id: 's' });
      const claims = { sub: 'gw', role: 'gateway', subdevices: { ids: [], pattern: 's-*' } };
      const gateway = await connect(edge, claims as Parameters<typeof connect>[1]);
      await connect(edge, { sub: 'd1', role: 'device' });
      expect((await watcher.roundTrip()).map((m) => m['topic'])).toEqual([
        'devices/gw/presence',
        'devices/d1/presence',
      ]);
      /** Sends frames right after an attach whose answer is held, once they reached the edge. */
      const afterHeldAttach = async (device: string, frames: (object | Buffer)[]) => {
        presence.hold(device);
        const before = await bytesIn();
        let bytes = 0;
        for (const frame of [{ type: 'attach', id: `a-${device}`, device }, ...frames]) {
          const data = Buffer.isBuffer(frame) ? frame : Buffer.from(JSON.stringify(frame));
          gateway.ws.send(data, { binary: Buffer.isBuffer(frame) });
          bytes += data.length;
        }
        await waitFor('the frames at the edge', async () => (await bytesIn()) - before >= bytes);
      };

      // s-1 is admitted (the tenant has room): its ack, then its messages and what followed them.
      await afterHeldAttach('s-1', [
        { type: 'telemetry', id: 't1', device: 's-1', data: { n: 1 } },
        { type: 'stream_open', id: 'o1', device: 's-1', channel: 1, name: 'audio' },
        Buffer.from([0xc1, 1, 7, 7]),
        { type: 'stream_close', channel: 1 },
        { type: 'ping', id: 'p1' },
      ]);
      expect(gateway.pending).toBe(0);
      expect(stored).toEqual([]);
      presence.release();
      expect(await gateway.next()).toEqual({ type: 'ack', id: 'a-s-1' });
      const answers = [await gateway.next(), await gateway.next(), await gateway.next()];
      // (Telemetry is acked once the telemetry log has it: after the rest.)
      expect(answers.map((m) => m['id'])).toEqual(['o1', 'p1', 't1']);
      const seen = await watcher.roundTrip();
      expect(seen.filter((m) => m['topic'] === 'devices/s-1/streams/audio')).toMatchObject([
        { type: 'message', data: { state: 'open' } },
        { type: 'stream_frame', seq: 0 },
        { type: 'message', data: { state: 'closed', chunks: 1 } },
      ]);
      expect(stored.map((r) => r.deviceId)).toEqual(['s-1']);

      // s-2 is new to a full tenant: refused, and what the gateway sent for it (a stream's
      // opening, chunk and end included) was never handled; the gateway's own stream on the
      // same channel after it and its own telemetry were, in their turn.
      await afterHeldAttach('s-2', [
        { type: 'telemetry', id: 't2', device: 's-2', data: { n: 2 } },
        { type: 'stream_open', id: 'o2', device: 's-2', channel: 2, name: 'audio' },
        Buffer.from([0xc1, 2, 7, 7]),
        { type: 'stream_close', channel: 2 },
        { type: 'stream_open', id: 'o3', channel: 2, name: 'mic' },
        Buffer.from([0xc1, 2, 8, 8]),
        { type: 'telemetry', id: 't3', data: { own: true } },
      ]);
      presence.release();
      expect(await gateway.next()).toMatchObject({
        type: 'error',
        code: 'device_limit',
        ref: 'a-s-2',
      });
      expect([await gateway.next(), await gateway.next()]).toEqual([
        { type: 'ack', id: 'o3' },
        { type: 'ack', id: 't3' },
      ]);
      expect(await gateway.roundTrip()).toEqual([]);
      const after = await watcher.roundTrip();
      expect(after.filter((m) => String(m['topic']).startsWith('devices/s-2/'))).toEqual([]);
      expect(after.filter((m) => m['topic'] === 'devices/gw/streams/mic')).toMatchObject([
        { type: 'message', data: { state: 'open' } },
        { type: 'stream_frame', seq: 0 },
      ]);
      expect(stored.map((r) => r.deviceId)).toEqual(['s-1', 'gw']);

      // A gateway that does not wait at all: past 256 KiB waiting (here a stream's chunks, which
      // the message rate does not bound) it is closed.
      const chunk = Buffer.concat([Buffer.from([0xc1, 3]), Buffer.alloc(16_000)]);
      await afterHeldAttach('s-3', [
        { type: 'stream_open', id: 'o3', device: 's-3', channel: 3, name: 'audio' },
        ...Array<Buffer>(17).fill(chunk),
      ]);
      expect(await gateway.closed).toEqual({
        code: 1008,
        reason: 'too many messages before attach',
      });
      presence.release();
    } finally {
      clients.terminateAll();
      edge.close();
    }
  });
});

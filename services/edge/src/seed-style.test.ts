import { MemoryTelemetryLog } from '@fleetwire/telemetry-log';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

import {
  TestClient,
  httpRequest,
  mintToken,
  startTestEdge,
  valueOf,
  type TestEdge,
} from './test-support.js';

// Frames written exactly as the IoT tutorials teach them (docs/protocol.md, "Seed-style
// messages"), sent by device sensor-001 to a real edge with a telemetry log behind it.

let edge: TestEdge;
let log: MemoryTelemetryLog;
const open: TestClient[] = [];

async function connect(sub: string, role: 'device' | 'dashboard'): Promise<TestClient> {
  const client = await TestClient.open(edge.url, mintToken({ sub, role }));
  open.push(client);
  return client;
}

/** A dashboard subscribed to everything of sensor-001 but its presence. */
async function watcher(): Promise<TestClient> {
  const dashboard = await connect('ops', 'dashboard');
  dashboard.send({
    type: 'subscribe',
    id: 's1',
    topics: ['devices/sensor-001/telemetry', 'devices/sensor-001/status'],
  });
  expect(await dashboard.next()).toEqual({ type: 'ack', id: 's1' });
  return dashboard;
}

beforeAll(async () => {
  log = new MemoryTelemetryLog();
  edge = await startTestEdge({ telemetrySink: log, limits: { commandTimeoutMs: 2_000 } });
});
afterEach(async () => {
  await Promise.all(open.splice(0).map((c) => c.close()));
});
afterAll(() => edge.close());

describe('seed-style frames on a real edge', () => {
  it("the tutorial's telemetry frame is stored and delivered as it was sent", async () => {
    const dashboard = await watcher();
    const device = await connect('sensor-001', 'device');
    const before = log.read(0, 1_000).records.length;
    const frame =
      '{"device_id":"sensor-001","type":"temperature_update","value":23.5,"timestamp":"2025-05-29T12:45:00Z"}';
    device.ws.send(frame);
    expect(await dashboard.next()).toMatchObject({
      type: 'message',
      kind: 'telemetry',
      topic: 'devices/sensor-001/telemetry',
      from: 'sensor-001',
      data: JSON.parse(frame),
    });
    expect(await device.roundTrip()).toEqual([]);
    const records = log.read(0, 1_000).records.slice(before);
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({
      deviceId: 'sensor-001',
      topic: 'devices/sensor-001/telemetry',
      data: JSON.parse(frame),
    });
    // That timestamp is over a week old: not believed, the record takes the edge's time.
    expect(records[0]!.ts).toBeGreaterThan(Date.now() - 60_000);
  });

  it('a plausible timestamp, ISO 8601 or epoch seconds or ms, is the stored time', async () => {
    const device = await connect('sensor-001', 'device');
    const before = log.read(0, 1_000).records.length;
    const at = Math.floor(Date.now() / 1000) * 1000 - 30_000;
    const iso = new Date(at).toISOString();
    device.ws.send(
      `{"device_id":"sensor-001","type":"temperature_update","value":23.5,"timestamp":"${iso}"}`,
    );
    device.ws.send(`{"type":"temperature_update","value":23.6,"timestamp":${at / 1000 - 1}}`);
    device.ws.send(`{"type":"update","id":"u-1","temperature":23.7,"timestamp":${at - 2_000}}`);
    expect(await device.roundTrip()).toEqual([{ type: 'ack', id: 'u-1' }]);
    const records = log.read(0, 1_000).records.slice(before);
    expect(records.map((r) => [r.ts, r.data['value'] ?? r.data['temperature']])).toEqual([
      [at, 23.5],
      [at - 1_000, 23.6],
      [at - 2_000, 23.7],
    ]);
    expect(records[2]).toMatchObject({ msgId: 'u-1', data: { temperature: 23.7 } });
  });

  it('a status with plain fields is delivered with them as its data', async () => {
    const dashboard = await watcher();
    const device = await connect('sensor-001', 'device');
    device.ws.send('{"device_id":"sensor-001","type":"status","status":"online","battery":87}');
    expect(await dashboard.next()).toMatchObject({
      type: 'message',
      kind: 'status',
      topic: 'devices/sensor-001/status',
      data: { device_id: 'sensor-001', status: 'online', battery: 87 },
    });
  });

  it("a device_id that is not the token's sub is refused with device_mismatch, nothing published", async () => {
    const dashboard = await watcher();
    const device = await connect('sensor-001', 'device');
    const before = log.read(0, 1_000).records.length;
    const refused = await valueOf(edge.metrics.messagesIn, { kind: 'invalid', transport: 'ws' });
    device.ws.send(
      '{"device_id":"sensor-002","type":"temperature_update","value":23.5,"timestamp":"2025-05-29T12:45:00Z","id":"m-7"}',
    );
    expect(await device.next()).toEqual({
      type: 'error',
      code: 'device_mismatch',
      message:
        'device_id "sensor-002" is not this connection\'s device "sensor-001" (the token\'s sub)',
      ref: 'm-7',
    });
    device.ws.send('{"device_id":"sensor-002","type":"status","status":"online"}');
    expect(await device.next()).toMatchObject({ type: 'error', code: 'device_mismatch' });
    expect(await dashboard.roundTrip()).toEqual([]);
    expect(log.read(0, 1_000).records.length).toBe(before);
    expect(await valueOf(edge.metrics.messagesIn, { kind: 'invalid', transport: 'ws' })).toBe(
      refused + 2,
    );
  });

  it('an ack without id answers the oldest pending command; with none pending it is an error', async () => {
    const dashboard = await connect('ops', 'dashboard');
    const device = await connect('sensor-001', 'device');
    dashboard.send({ type: 'command', id: 'c-1', target: 'sensor-001', name: 'turn_on' });
    dashboard.send({ type: 'command', id: 'c-2', target: 'sensor-001', name: 'turn_off' });
    expect(await device.next()).toMatchObject({ type: 'command', id: 'c-1', name: 'turn_on' });
    expect(await device.next()).toMatchObject({ type: 'command', id: 'c-2', name: 'turn_off' });
    device.ws.send('{"device_id":"sensor-001","type":"ack"}');
    expect(await dashboard.next()).toEqual({ type: 'ack', id: 'c-1' });
    device.ws.send('{"type":"nack","message":"relay stuck"}');
    expect(await dashboard.next()).toEqual({
      type: 'nack',
      id: 'c-2',
      reason: 'rejected',
      message: 'relay stuck',
    });
    device.ws.send('{"type":"ack"}');
    expect(await device.next()).toEqual({
      type: 'error',
      code: 'no_pending_command',
      message: "ack without id: no command is waiting for this device's answer",
    });
    expect(edge.server.stateSizes().pendingCommands).toBe(0);
  });

  it('an ack naming its command by ref answers that one, not the oldest', async () => {
    const dashboard = await connect('ops', 'dashboard');
    const device = await connect('sensor-001', 'device');
    dashboard.send({ type: 'command', id: 'c-1', target: 'sensor-001', name: 'a' });
    dashboard.send({ type: 'command', id: 'c-2', target: 'sensor-001', name: 'b' });
    await device.next();
    await device.next();
    device.ws.send('{"type":"ack","ref":"c-2","result":"b done"}');
    expect(await dashboard.next()).toEqual({ type: 'ack', id: 'c-2', result: 'b done' });
    device.ws.send('{"type":"ack"}');
    expect(await dashboard.next()).toEqual({ type: 'ack', id: 'c-1' });
  });

  it('POST /api/commands gets the ack of a device that answers {"type":"ack"} (no 504)', async () => {
    const device = await connect('sensor-001', 'device');
    const answered = httpRequest(
      edge.port,
      'POST',
      '/api/commands',
      mintToken({ sub: 'backend', role: 'service' }),
      { target: 'sensor-001', name: 'reboot' },
    );
    const command = await device.next();
    expect(command).toMatchObject({ type: 'command', name: 'reboot' });
    device.ws.send('{"type":"ack"}');
    const response = await answered;
    expect(response.status).toBe(200);
    expect(JSON.parse(response.body)).toEqual({ status: 'ack', type: 'ack', id: command['id'] });
  });
});

import { FleetwireClient, type WebSocketConstructor } from '@fleetwire/client';
import type { TelemetryRecord } from '@fleetwire/protocol';
import {
  SqlDeviceStateStore,
  TelemetryStore,
  createPgliteClient,
  migrate,
  openSqlClient,
} from '@fleetwire/store';
import { MemoryTelemetryLog } from '@fleetwire/telemetry-log';
import { waitFor } from '@fleetwire/testkit';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';

import { mintToken, startTestEdge, type TestEdge, type TokenClaims } from './test-support.js';

// The SDK against a real edge node: the Node 20 `ws` package stands in for the browser's WebSocket.
const edges: TestEdge[] = [];
const clients: FleetwireClient[] = [];

function client(
  edge: TestEdge,
  claims: TokenClaims | (() => string),
  extra: { ackTimeoutMs?: number } = {},
): FleetwireClient {
  const c = new FleetwireClient({
    url: edge.url,
    token: typeof claims === 'function' ? claims : mintToken(claims),
    WebSocket: WebSocket as unknown as WebSocketConstructor,
    backoff: { initialDelayMs: 20, maxDelayMs: 200 },
    ...extra,
  });
  clients.push(c);
  return c;
}

async function edgeOn(options: Parameters<typeof startTestEdge>[0] = {}): Promise<TestEdge> {
  const edge = await startTestEdge(options);
  edges.push(edge);
  return edge;
}

afterEach(() => {
  for (const c of clients.splice(0)) c.close();
  for (const e of edges.splice(0)) e.close();
});

describe('FleetwireClient against an edge node', () => {
  it('a connection replaced by a newer one (4002) ends for good; what waited rejects with REPLACED', async () => {
    // A sink that never stores: the first device's telemetry stays unacked.
    const edge = await edgeOn({
      telemetrySink: { append: () => new Promise<void>(() => undefined), flush: async () => {} },
    });
    const first = client(edge, { sub: 'twin', role: 'device' });
    await first.connect();
    const pending = first.telemetry({ n: 1 }, { id: 'never-acked' });
    const second = client(edge, { sub: 'twin', role: 'device' });
    await second.connect();
    await expect(pending).rejects.toMatchObject({ code: 'REPLACED' });
    expect(first.state).toBe('closed');
    expect(second.state).toBe('connected');
  });

  it('device telemetry reaches a subscribed dashboard; commands are auto-acked with the handler’s result', async () => {
    const edge = await edgeOn();
    const dashboard = client(edge, { sub: 'ops', role: 'dashboard' });
    await dashboard.connect();
    await dashboard.subscribe(['devices/+/telemetry']);
    const device = client(edge, { sub: 'car-1', role: 'device' });
    device.onCommand('forward', (command) => ({ moved: (command.params as { cm: number }).cm }));
    await device.connect();

    const delivered = dashboard.once('message');
    await device.telemetry({ speed: 3 }, { id: 't1' });
    expect(await delivered).toMatchObject({
      kind: 'telemetry',
      from: 'car-1',
      id: 't1',
      data: { speed: 3 },
    });
    expect(await dashboard.command('car-1', 'forward', { cm: 20 })).toEqual({ moved: 20 });
    await expect(
      dashboard.command('car-1', 'fly', undefined, { timeoutMs: 200 }),
    ).rejects.toMatchObject({
      code: 'NACKED',
      reason: 'timeout',
    });
  }, 20_000);

  it('reconnects after the server restarts: resubscribes, and a message queued meanwhile is delivered once', async () => {
    const log = new MemoryTelemetryLog();
    const first = await edgeOn({ telemetrySink: log });
    const port = String(first.port);
    const dashboard = client(first, { sub: 'ops', role: 'dashboard' });
    const device = client(first, { sub: 'car-2', role: 'device' });
    await Promise.all([dashboard.connect(), device.connect()]);
    await dashboard.subscribe(['devices/car-2/telemetry']);

    const bothDown = Promise.all([dashboard.once('close'), device.once('close')]);
    first.close();
    expect((await bothDown).map((c) => c.code)).toEqual([1012, 1012]);
    // Sent while there is no server: queued, then resent until acked.
    const acked = device.telemetry({ n: 1 }, { id: 'queued-1' });
    expect(device.queued).toBe(1);

    const backAgain = Promise.all([dashboard.once('welcome'), device.once('welcome')]);
    await edgeOn({ telemetrySink: log, env: { FLEETWIRE_PORT: port } });
    await backAgain;
    await acked;
    // The dashboard's subscription came back with it (queued-1 may arrive first or not, depending
    // on whether the dashboard resubscribed before the device resent it).
    const delivered = new Promise<unknown>((resolve) => {
      const off = dashboard.on('message', (m) => {
        if (m.id !== 'after-1') return;
        off();
        resolve(m);
      });
    });
    await device.telemetry({ n: 2 }, { id: 'after-1' });
    expect(await delivered).toMatchObject({ id: 'after-1', data: { n: 2 } });
    expect(log.read(0, 100).records.map((r) => r.msgId)).toEqual(['queued-1', 'after-1']);
    expect(device.queued).toBe(0);
  }, 20_000);

  it('a backlog of five times the rate limit, resent after a reconnect, is paced under it: all acked, no 1008', async () => {
    const log = new MemoryTelemetryLog();
    const limits = { FLEETWIRE_RATE_PER_SEC: '20', FLEETWIRE_RATE_BURST: '20' };
    const first = await edgeOn({ telemetrySink: log, env: limits });
    const port = String(first.port);
    const device = client(first, { sub: 'backlog-1', role: 'device' });
    const closes: number[] = [];
    const refusals: string[] = [];
    device.on('close', ({ code }) => closes.push(code));
    device.on('serverError', ({ code }) => refusals.push(code));
    expect((await device.connect()).limits).toEqual({ ratePerSec: 20, rateBurst: 20 });

    const down = device.once('close');
    first.close();
    await down;
    // Five seconds' worth of the limit, all waiting to be sent when the edge is back.
    const acked = Array.from({ length: 100 }, (_, n) =>
      device.telemetry({ n }, { id: `backlog-${n}` }),
    );
    await edgeOn({ telemetrySink: log, env: { ...limits, FLEETWIRE_PORT: port } });
    await Promise.all(acked);
    expect(closes).toEqual([1012]);
    expect(refusals).toEqual([]);
    const stored = log.read(0, 1000).records.filter((r) => r.deviceId === 'backlog-1');
    expect(new Set(stored.map((r) => r.msgId)).size).toBe(100);
    expect(device.queued).toBe(0);
  }, 30_000);

  it('refreshes its token: an expired session (4001) reconnects at once with a new token', async () => {
    const edge = await edgeOn({ env: { FLEETWIRE_JWT_CLOCK_SKEW_SEC: '0' } });
    let issued = 0;
    const device = client(edge, () => {
      issued += 1;
      return mintToken({ sub: 'car-3', role: 'device' }, { expiresIn: issued === 1 ? 1 : 300 });
    });
    await device.connect();
    const closed = device.once('close');
    const again = device.once('welcome');
    expect(await closed).toEqual({ code: 4001, reason: 'token expired' });
    await again;
    expect(issued).toBe(2);
    await device.telemetry({ ok: true }, { id: 'fresh' });
  }, 20_000);

  it('at-least-once: an unacked message is resent with the same id and time, and stored once', async () => {
    // A log that is slow to acknowledge the first record: the client resends before the ack.
    const appended: TelemetryRecord[] = [];
    let releaseFirst: () => void = () => undefined;
    const firstHeld = new Promise<void>((resolve) => (releaseFirst = resolve));
    let resent: () => void = () => undefined;
    const secondArrived = new Promise<void>((resolve) => (resent = resolve));
    const edge = await edgeOn({
      telemetrySink: {
        async append(record) {
          appended.push(record);
          if (appended.length === 2) resent();
          if (appended.length === 1) await firstHeld;
        },
        async flush() {},
      },
    });
    const device = client(edge, { sub: 'car-4', role: 'device' }, { ackTimeoutMs: 100 });
    await device.connect();
    const acked = device.telemetry({ v: 42 }, { id: 'once' });
    // The resend reaches the log while the first append still waits; then let it finish.
    await secondArrived;
    releaseFirst();
    await acked;
    expect(appended.map((r) => [r.msgId, r.ts])).toEqual([
      ['once', appended[0]?.ts],
      ['once', appended[0]?.ts],
    ]);
    // The store recognises the resend: one row.
    const sql = await openSqlClient('pglite:memory');
    await migrate(sql);
    const store = new TelemetryStore(sql);
    expect(await store.insertBatch(appended)).toBe(1);
    await sql.close();
  }, 20_000);

  it('device state: setDesired reaches onDesired, report closes the delta, a stale version is a conflict', async () => {
    const db = await createPgliteClient();
    await migrate(db);
    const edge = await edgeOn({ deviceState: new SqlDeviceStateStore(db) });
    try {
      const ops = client(edge, { sub: 'ops', role: 'dashboard' });
      await ops.connect();
      // Set while the device is offline: it gets the delta when it connects.
      const first = await ops.setDesired('heater', { target_temperature: 19 });
      expect(first).toMatchObject({ version: 1, delta: { target_temperature: 19 } });

      const heater = client(edge, { sub: 'heater', role: 'device' });
      const seen: Record<string, unknown>[] = [];
      heater.onDesired(async (_desired, delta) => {
        seen.push(delta);
        await heater.report(delta);
      });
      await heater.connect();
      await waitFor('the first report', async () => (await ops.getState('heater')).version === 2);
      expect(seen).toEqual([{ target_temperature: 19 }]);
      expect((await ops.getState('heater')).delta).toEqual({});

      await ops.setDesired('heater', { target_temperature: 22 }, { version: 2 });
      await waitFor('the second report', async () => (await ops.getState('heater')).version === 4);
      expect(seen).toEqual([{ target_temperature: 19 }, { target_temperature: 22 }]);
      expect(await ops.getState('heater')).toMatchObject({
        reported: { target_temperature: 22 },
        delta: {},
      });
      await expect(
        ops.setDesired('heater', { target_temperature: 5 }, { version: 2 }),
      ).rejects.toMatchObject({
        code: 'NACKED',
        reason: 'conflict',
      });
    } finally {
      await db.close();
    }
    // PGlite takes seconds to start on a busy machine.
  }, 60_000);
});

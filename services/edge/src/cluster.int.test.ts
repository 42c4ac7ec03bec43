import { RedisBus, RedisPresence } from '@fleetwire/bus';
import { LocalRedis, testRedis, type TestRedis } from '@fleetwire/testkit';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

import {
  TestClient,
  httpGet,
  httpRequest,
  mintToken,
  startTestEdge,
  valueOf,
  type TestEdge,
} from './test-support.js';

const clients: TestClient[] = [];
const closers: (() => Promise<void> | void)[] = [];

async function connect(
  edge: TestEdge,
  claims: Parameters<typeof mintToken>[0],
  format: 'json' | 'msgpack' = 'json',
) {
  const client = await TestClient.open(edge.url, mintToken(claims), { format });
  clients.push(client);
  return client;
}

/** An edge node on the given Redis, as a separate node of one cluster. */
async function node(
  name: string,
  redisUrl: string,
  prefix: string,
): Promise<TestEdge & { bus: RedisBus }> {
  const bus = await RedisBus.connect({ url: redisUrl, nodeId: name, prefix });
  const presence = await RedisPresence.connect({ url: redisUrl, prefix, ttlMs: 30_000 });
  const edge = await startTestEdge({
    env: { FLEETWIRE_NODE_ID: name },
    limits: { commandTimeoutMs: 500 },
    bus,
    presence,
  });
  closers.push(async () => {
    edge.close();
    await bus.close();
    await presence.close();
  });
  return Object.assign(edge, { bus });
}

afterEach(async () => {
  for (const c of clients.splice(0)) c.ws.terminate();
});

afterAll(async () => {
  for (const close of closers.splice(0)) await close();
});

describe('two edge nodes over Redis', () => {
  let redis: TestRedis;
  let a: TestEdge & { bus: RedisBus };
  let b: TestEdge & { bus: RedisBus };

  beforeAll(async () => {
    redis = await testRedis();
    closers.push(() => redis.close());
    a = await node('node-a', redis.url, redis.keyPrefix);
    b = await node('node-b', redis.url, redis.keyPrefix);
  });

  it('device on A → dashboards on B (wildcard, JSON and MessagePack), once each, in order', async () => {
    const json = await connect(b, { sub: 'ops', role: 'dashboard' });
    const packed = await connect(b, { sub: 'ops2', role: 'dashboard' }, 'msgpack');
    for (const d of [json, packed]) {
      // Two overlapping patterns on B still mean one crossing of Redis per publish.
      d.send({ type: 'subscribe', id: 's', topics: ['devices/+/telemetry'] });
      expect(await d.next()).toEqual({ type: 'ack', id: 's' });
    }
    const device = await connect(a, { sub: 'car-1', role: 'device' });
    for (let n = 0; n < 50; n++) device.send({ type: 'telemetry', data: { n } });
    device.send({ type: 'telemetry', id: 'last', data: { n: 50 } });
    expect(await device.next()).toEqual({ type: 'ack', id: 'last' });
    for (const d of [json, packed]) {
      const ns = [];
      for (let n = 0; n <= 50; n++) {
        const m = await d.next();
        expect(m).toMatchObject({
          type: 'message',
          kind: 'telemetry',
          from: 'car-1',
          topic: 'devices/car-1/telemetry',
        });
        ns.push((m['data'] as { n: number }).n);
      }
      expect(ns).toEqual([...Array(51).keys()]);
      expect(await d.roundTrip()).toEqual([]);
    }
    const remote = (await b.metrics.deliverLatency.get()).values.find(
      (v) => v.metricName?.endsWith('_count') && v.labels['path'] === 'remote',
    );
    expect(remote?.value).toBeGreaterThanOrEqual(51);
  });

  it('no double delivery on the publisher’s own node', async () => {
    const local = await connect(a, { sub: 'ops', role: 'dashboard' });
    const remote = await connect(b, { sub: 'ops', role: 'dashboard' });
    for (const d of [local, remote]) {
      d.send({ type: 'subscribe', id: 's', topics: ['devices/car-2/telemetry'] });
      await d.next();
    }
    const device = await connect(a, { sub: 'car-2', role: 'device' });
    device.send({ type: 'telemetry', id: 't', data: { x: 1 } });
    await device.next();
    for (const d of [local, remote]) {
      expect(await d.next()).toMatchObject({ kind: 'telemetry', data: { x: 1 } });
    }
    // A marker sent after: if A had delivered twice, the duplicate would come before it.
    device.send({ type: 'telemetry', id: 'm', data: { x: 2 } });
    await device.next();
    expect(await local.next()).toMatchObject({ data: { x: 2 } });
    expect(await remote.next()).toMatchObject({ data: { x: 2 } });
  });

  it('command B → device on A → ack (with result) back to B, over WebSocket and HTTP', async () => {
    const device = await connect(a, { sub: 'car-3', role: 'device' });
    const dashboard = await connect(b, { sub: 'ops', role: 'dashboard' });
    dashboard.send({
      type: 'command',
      id: 'c1',
      target: 'car-3',
      name: 'forward',
      params: { speed: 2 },
    });
    expect(await device.next()).toEqual({
      type: 'command',
      id: 'c1',
      from: 'ops',
      name: 'forward',
      params: { speed: 2 },
    });
    device.send({ type: 'ack', id: 'c1', result: { moved: 2 } });
    expect(await dashboard.next()).toEqual({ type: 'ack', id: 'c1', result: { moved: 2 } });

    const service = mintToken({ sub: 'backend', role: 'service' });
    const answered = httpRequest(b.port, 'POST', '/api/commands', service, {
      id: 'h1',
      target: 'car-3',
      name: 'horn',
    });
    expect(await device.next()).toMatchObject({
      type: 'command',
      id: 'h1',
      from: 'backend',
      name: 'horn',
    });
    device.send({ type: 'ack', id: 'h1', result: 'beep' });
    const response = await answered;
    expect(response.status).toBe(200);
    expect(JSON.parse(response.body)).toEqual({
      status: 'ack',
      type: 'ack',
      id: 'h1',
      result: 'beep',
    });
    expect(b.server.stateSizes().pendingCommands).toBe(0);
    expect(a.server.stateSizes().pendingCommands).toBe(0);
  });

  it('offline device: nack offline at once; silent device: nack timeout; HTTP maps them to 404 and 504', async () => {
    const dashboard = await connect(b, { sub: 'ops', role: 'dashboard' });
    dashboard.send({ type: 'command', id: 'c2', target: 'nowhere', name: 'x' });
    expect(await dashboard.next()).toEqual({ type: 'nack', id: 'c2', reason: 'offline' });
    const device = await connect(a, { sub: 'car-4', role: 'device' });
    dashboard.send({ type: 'command', id: 'c3', target: 'car-4', name: 'x', timeoutMs: 300 });
    expect(await device.next()).toMatchObject({ id: 'c3' });
    expect(await dashboard.next()).toEqual({ type: 'nack', id: 'c3', reason: 'timeout' });

    const service = mintToken({ sub: 'backend', role: 'service' });
    const offline = await httpRequest(b.port, 'POST', '/api/commands', service, {
      target: 'nowhere',
      name: 'x',
    });
    expect([offline.status, JSON.parse(offline.body).reason]).toEqual([404, 'offline']);
    const timeout = httpRequest(b.port, 'POST', '/api/commands', service, {
      target: 'car-4',
      name: 'x',
      timeoutMs: 300,
    });
    await device.next();
    const timedOut = await timeout;
    expect([timedOut.status, JSON.parse(timedOut.body).reason]).toEqual([504, 'timeout']);
    const bad = await httpRequest(b.port, 'POST', '/api/commands', service, { name: 'x' });
    expect(bad.status).toBe(400);
    const device2 = await httpRequest(
      b.port,
      'POST',
      '/api/commands',
      mintToken({ sub: 'd', role: 'device' }),
      {
        target: 'car-4',
        name: 'x',
      },
    );
    expect(device2.status).toBe(403);
  });

  it('a device that reconnects to the other node replaces its old connection (4002); presence follows', async () => {
    const watcher = await connect(a, { sub: 'ops', role: 'dashboard' });
    watcher.send({ type: 'subscribe', id: 's', topics: ['devices/car-5/presence'] });
    await watcher.next();
    const first = await connect(a, { sub: 'car-5', role: 'device' });
    expect(await watcher.next()).toMatchObject({ data: { online: true, node: 'node-a' } });
    await connect(b, { sub: 'car-5', role: 'device' });
    expect(await watcher.next()).toMatchObject({ data: { online: true, node: 'node-b' } });
    expect(await first.closed).toEqual({ code: 4002, reason: 'replaced by a newer connection' });
    const token = mintToken({ sub: 'ops', role: 'dashboard' });
    const presence = JSON.parse((await httpGet(a.port, '/api/devices/car-5/presence', token)).body);
    expect(presence).toMatchObject({ deviceId: 'car-5', online: true, node: 'node-b' });
    // The replaced connection left quietly: no offline event.
    expect(await watcher.roundTrip()).toEqual([]);
  });

  it('devices of a node that died go offline: a live node reaps them and publishes the events', async () => {
    const watcher = await connect(b, { sub: 'ops', role: 'dashboard' });
    watcher.send({ type: 'subscribe', id: 's', topics: ['devices/+/presence'] });
    await watcher.next();
    // A node that registers a device and then is never heard from again.
    const ghost = await RedisPresence.connect({
      url: redis.url,
      prefix: redis.keyPrefix,
      ttlMs: 30_000,
    });
    const past = Date.now() - 60_000;
    await ghost.markOnline({ tenant: 'acme', deviceId: 'car-ghost' }, 'node-ghost', past);
    await ghost.close();
    await b.server.presenceTracker.tick();
    expect(await watcher.next()).toMatchObject({
      topic: 'devices/car-ghost/presence',
      data: { online: false },
    });
    const token = mintToken({ sub: 'ops', role: 'dashboard' });
    const presence = JSON.parse(
      (await httpGet(b.port, '/api/devices/car-ghost/presence', token)).body,
    );
    expect(presence).toMatchObject({ online: false, lastSeen: past });
  });
});

describe('Redis restart', () => {
  it('reports not ready while Redis is away, counts what it could not deliver, and resumes fan-out', async () => {
    const redis = await LocalRedis.launch();
    closers.push(() => redis.dispose());
    const a = await node('node-ra', redis.url, 'fw:');
    const b = await node('node-rb', redis.url, 'fw:');
    const dashboard = await connect(b, { sub: 'ops', role: 'dashboard' });
    dashboard.send({ type: 'subscribe', id: 's', topics: ['devices/+/telemetry'] });
    await dashboard.next();
    const device = await connect(a, { sub: 'car-r', role: 'device' });
    device.send({ type: 'telemetry', data: { phase: 'before' } });
    expect(await dashboard.next()).toMatchObject({ data: { phase: 'before' } });

    const down = Promise.all([a, b].map((edge) => statusChange(edge, false)));
    await redis.stop();
    await down;
    expect((await httpGet(a.port, '/readyz')).status).toBe(503);
    expect(await valueOf(a.metrics.busReady)).toBe(0);

    device.send({ type: 'telemetry', id: 'lost', data: { phase: 'during' } });
    // Local work goes on: the device is still acked; the cross-node copy is counted as lost.
    expect(await device.next()).toEqual({ type: 'ack', id: 'lost' });
    expect(await valueOf(a.metrics.busUndelivered)).toBeGreaterThanOrEqual(1);

    const up = Promise.all([a, b].map((edge) => statusChange(edge, true)));
    await redis.start();
    await up;
    expect((await httpGet(a.port, '/readyz')).status).toBe(200);
    device.send({ type: 'telemetry', data: { phase: 'after' } });
    expect(await dashboard.next()).toMatchObject({ data: { phase: 'after' } });
  }, 60_000);
});

/** Resolves when the node's bus reports `ready` (true or false). */
function statusChange(edge: { bus: RedisBus }, ready: boolean): Promise<void> {
  return new Promise((resolve) => {
    if (edge.bus.ready === ready) return resolve();
    edge.bus.onStatus((now) => {
      if (now === ready) resolve();
    });
  });
}

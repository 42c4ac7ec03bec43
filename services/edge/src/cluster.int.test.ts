import { RedisBus, RedisPresence } from '@fleetwire/bus';
import { LocalRedis, TcpProxy, testRedis, type TestRedis } from '@fleetwire/testkit';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

import { clusterScenarios } from './cluster-scenarios.js';
import {
  httpGet,
  mintToken,
  valueOf,
  type TestEdge,
  startRedisEdge,
  type RedisTestEdge,
  TestClientPool,
} from './test-support.js';

const clients = new TestClientPool();
const { connect } = clients;
const closers: (() => Promise<void> | void)[] = [];

/** An edge node on the given Redis, as a separate node of one cluster. */
async function node(
  name: string,
  redisUrl: string,
  prefix: string,
  env: Record<string, string> = {},
): Promise<RedisTestEdge> {
  const edge = await startRedisEdge({
    name,
    redisUrl,
    prefix,
    env,
    limits: { commandTimeoutMs: 500, ratePerSec: 10_000, rateBurst: 10_000 },
  });
  closers.push(edge.closeAll);
  return edge;
}

afterEach(async () => {
  clients.terminateAll();
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

  clusterScenarios(() => ({ a, b, connect }));

  it('a node stopped at once still announces its devices offline (after their records), before its bus closes', async () => {
    const x = await node('node-x', redis.url, redis.keyPrefix);
    const watcher = await connect(b, { sub: 'ops', role: 'dashboard' });
    watcher.send({ type: 'subscribe', id: 's', topics: ['devices/car-x1/presence'] });
    await watcher.next();
    await connect(x, { sub: 'car-x1', role: 'device' });
    expect(await watcher.next()).toMatchObject({ data: { online: true, node: 'node-x' } });
    await x.closeAll();
    // Sent by X before its bus closed (not, a TTL later, by a reaper): once B's bus has heard
    // everything published before now, and B has answered a ping, the event is here.
    await b.bus.sync();
    const heard = await watcher.roundTrip();
    expect(heard).toMatchObject([{ topic: 'devices/car-x1/presence', data: { online: false } }]);
    const token = mintToken({ sub: 'ops', role: 'dashboard' });
    const record = JSON.parse(
      (await httpGet(b.port, '/api/devices/car-x1/presence', token)).body,
    ) as Record<string, unknown>;
    expect(record).toMatchObject({ online: false });
  });

  it('malformed, unknown and too-new messages from another node are counted and dropped; the nodes keep serving', async () => {
    const watcher = await connect(b, { sub: 'ops', role: 'dashboard' });
    watcher.send({ type: 'subscribe', id: 's', topics: ['devices/+/telemetry'] });
    await watcher.next();
    const device = await connect(b, { sub: 'car-rogue-target', role: 'device' });
    // A rogue process on the same Redis, speaking the bus framing with bad payloads.
    const rogue = await RedisBus.connect({
      url: redis.url,
      nodeId: 'node-rogue',
      prefix: redis.keyPrefix,
    });
    closers.push(() => rogue.close());
    const topic = 'acme/devices/car-x/telemetry';
    await rogue.publish(topic, Buffer.from('{not json'));
    await rogue.publish(topic, Buffer.from(JSON.stringify({ type: 'message', topic: 7 })));
    await rogue.publish(topic, Buffer.from('['.repeat(5000) + ']'.repeat(5000)));
    // B's own inbox: where commands, takeovers and state for the devices it holds arrive.
    const inbox = 'node:node-b';
    await rogue.send(inbox, Buffer.from(JSON.stringify({ type: 'self_destruct' })));
    await rogue.send(inbox, Buffer.from(JSON.stringify({ v: 99, type: 'takeover', node: 'x' })));
    await rogue.send(inbox, Buffer.from(JSON.stringify({ type: 'command', id: 5 })));

    // The device was not taken over, and a real message still crosses from a to b.
    const sender = await connect(a, { sub: 'car-rogue-sender', role: 'device' });
    sender.send({ type: 'telemetry', id: 'after', data: { ok: true } });
    expect(await watcher.next()).toMatchObject({ from: 'car-rogue-sender', data: { ok: true } });
    expect(await device.roundTrip()).toEqual([]);
    const dropped = (reason: string) => valueOf(b.metrics.nodeMessagesDropped, { reason });
    expect(await dropped('undecodable')).toBe(2);
    expect(await dropped('invalid')).toBe(2);
    expect(await dropped('unknown_kind')).toBe(1);
    expect(await dropped('newer_version')).toBe(1);
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
    // Devices the earlier tests' nodes left behind may be reaped in the same pass: their events
    // are right too, but this test is about the ghost's.
    let event = await watcher.next();
    while (event['topic'] !== 'devices/car-ghost/presence') event = await watcher.next();
    // It names the dead node, which held the device, not the reaper.
    expect(event).toMatchObject({ data: { online: false, node: 'node-ghost' } });
    const token = mintToken({ sub: 'ops', role: 'dashboard' });
    const presence = JSON.parse(
      (await httpGet(b.port, '/api/devices/car-ghost/presence', token)).body,
    );
    expect(presence).toMatchObject({ online: false, lastSeen: past });
  });
});

describe('Redis restart', () => {
  it('stays ready while Redis is away (reported as a dependency), counts what it could not deliver, and resumes fan-out', async () => {
    const redis = await LocalRedis.launch();
    closers.push(() => redis.dispose());
    // History off: the at-most-once mode (history.int.test.ts has the outage with history on).
    const off = { FLEETWIRE_HISTORY_ENABLED: 'false' };
    const a = await node('node-ra', redis.url, 'fw:', off);
    const b = await node('node-rb', redis.url, 'fw:', off);
    const dashboard = await connect(b, { sub: 'ops', role: 'dashboard' });
    dashboard.send({ type: 'subscribe', id: 's', topics: ['devices/+/telemetry'] });
    await dashboard.next();
    const device = await connect(a, { sub: 'car-r', role: 'device' });
    device.send({ type: 'telemetry', data: { phase: 'before' } });
    expect(await dashboard.next()).toMatchObject({ data: { phase: 'before' } });

    const down = Promise.all([a, b].map((edge) => statusChange(edge, false)));
    await redis.stop();
    await down;
    await expectReadyWithRedisDown(a);
    expect(await valueOf(a.metrics.busReady)).toBe(0);

    const logsBefore = a.logs.length + b.logs.length;
    device.send({ type: 'telemetry', id: 'lost', data: { phase: 'during' } });
    // Local work goes on: the device is still acked; the cross-node copy is counted as lost.
    expect(await device.next()).toEqual({ type: 'ack', id: 'lost' });
    // Traffic during the outage: every copy is counted, and the logs stay readable (one line
    // per interval with a count, not one per message).
    for (let i = 0; i < 600; i += 1) device.send({ type: 'telemetry', data: { i } });
    await device.roundTrip();
    expect(await valueOf(a.metrics.busUndelivered)).toBeGreaterThanOrEqual(601);
    const outageLogs = a.logs.length + b.logs.length - logsBefore;
    expect(outageLogs).toBeLessThan(20);

    const up = Promise.all([a, b].map((edge) => statusChange(edge, true)));
    await redis.start();
    await up;
    expect((await httpGet(a.port, '/readyz')).status).toBe(200);
    expect(await a.metricsText()).toMatch(
      /^fleetwire_dependency_up\{[^}]*dependency="redis"[^}]*\} 1$/m,
    );
    device.send({ type: 'telemetry', data: { phase: 'after' } });
    expect(await dashboard.next()).toMatchObject({ data: { phase: 'after' } });
  }, 60_000);
});

describe('a Redis that goes silent (packets dropped, no reset)', () => {
  it('devices still get their welcome (no hang on the presence write); Redis reads down; all is back after', async () => {
    const redis = await testRedis();
    closers.push(() => redis.close());
    const proxy = await TcpProxy.start('127.0.0.1', Number(new URL(redis.url).port));
    closers.push(() => proxy.close());
    const edge = await startRedisEdge({
      name: 'node-silent',
      redisUrl: proxy.rewrite(redis.url),
      prefix: redis.keyPrefix,
      replyTimeoutMs: 400,
    });
    closers.push(edge.closeAll);
    await connect(edge, { sub: 'before', role: 'device' });

    const down = statusChange(edge, false);
    proxy.freeze();
    // Its welcome waits for its presence record, which Redis never answers: the write fails
    // within the reply timeout instead of waiting for the kernel (~15 min), and the welcome
    // goes out (the test's own 30 s timeout is what a hang would hit).
    const during = await connect(edge, { sub: 'during', role: 'device' });
    // The failed write is counted (and logged once per interval) before the welcome goes out.
    expect(await edge.metricsText()).toMatch(
      /^fleetwire_edge_dependency_failures_total\{[^}]*dependency="presence",operation="markOnline"[^}]*\} [1-9]/m,
    );
    await down;
    await expectReadyWithRedisDown(edge);
    // Local work goes on meanwhile.
    during.send({ type: 'telemetry', id: 't1', data: { v: 1 } });
    expect(await during.next()).toEqual({ type: 'ack', id: 't1' });

    const up = statusChange(edge, true);
    proxy.up();
    await up;
    expect(await edge.metricsText()).toMatch(
      /^fleetwire_dependency_up\{[^}]*dependency="redis"[^}]*\} 1$/m,
    );
    await connect(edge, { sub: 'after', role: 'device' });
  }, 30_000);
});

/**
 * A Redis outage is every node's: taking them all out of the load balancer would turn it into a
 * full outage. Readiness stays; the dependency is reported down, in /health and the metric.
 */
async function expectReadyWithRedisDown(edge: TestEdge): Promise<void> {
  expect((await httpGet(edge.port, '/readyz')).status).toBe(200);
  expect(JSON.parse((await httpGet(edge.port, '/health')).body)).toMatchObject({
    dependencies: { redis: { up: false } },
  });
  expect(await edge.metricsText()).toMatch(
    /^fleetwire_dependency_up\{[^}]*dependency="redis"[^}]*\} 0$/m,
  );
}

/** Resolves when the node's bus reports `ready` (true or false). */
function statusChange(edge: { bus: RedisBus }, ready: boolean): Promise<void> {
  return new Promise((resolve) => {
    if (edge.bus.ready === ready) return resolve();
    edge.bus.onStatus((now) => {
      if (now === ready) resolve();
    });
  });
}

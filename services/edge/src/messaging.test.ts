import { encode } from '@msgpack/msgpack';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

import {
  TestClient,
  httpGet,
  httpRequest,
  mintToken,
  startTestEdge,
  valueOf,
  type TestEdge,
  type TokenClaims,
} from './test-support.js';

let edge: TestEdge;
const open: TestClient[] = [];

async function connect(
  claims: Parameters<typeof mintToken>[0],
  format: 'json' | 'msgpack' = 'json',
): Promise<TestClient> {
  const client = await TestClient.open(edge.url, mintToken(claims), { format });
  open.push(client);
  return client;
}

beforeAll(async () => {
  // No clock skew allowance: the token-expiry test closes at exp itself.
  edge = await startTestEdge({
    limits: { commandTimeoutMs: 300 },
    env: { FLEETWIRE_JWT_CLOCK_SKEW_SEC: '0' },
  });
});

afterEach(async () => {
  await Promise.all(open.splice(0).map((c) => c.close()));
});

afterAll(() => edge.close());

describe('telemetry reaches subscribed dashboards', () => {
  it('device → dashboard subscribed with a wildcard, in JSON and in MessagePack', async () => {
    const json = await connect({ sub: 'ops', role: 'dashboard' });
    const packed = await connect({ sub: 'ops2', role: 'dashboard' }, 'msgpack');
    json.send({ type: 'subscribe', id: 's1', topics: ['devices/+/telemetry'] });
    expect(await json.next()).toEqual({ type: 'ack', id: 's1' });
    packed.ws.send(encode({ type: 'subscribe', id: 's2', topics: ['devices/#'] }));
    expect(await packed.next()).toEqual({ type: 'ack', id: 's2' });

    const device = await connect({ sub: 'dev-1', role: 'device' });
    // devices/# also covers the device's presence topic.
    expect(await packed.next()).toMatchObject({
      type: 'message',
      kind: 'presence',
      topic: 'devices/dev-1/presence',
      from: 'dev-1',
      data: { online: true, node: 'test-node' },
    });
    device.send({ type: 'telemetry', id: 'm1', data: { temperature: 21.5 } });
    expect(await device.next()).toEqual({ type: 'ack', id: 'm1' });

    for (const dashboard of [json, packed]) {
      expect(await dashboard.next()).toMatchObject({
        type: 'message',
        kind: 'telemetry',
        topic: 'devices/dev-1/telemetry',
        from: 'dev-1',
        id: 'm1',
        data: { temperature: 21.5 },
        ts: expect.any(Number),
      });
    }
    expect(
      await valueOf(edge.metrics.messagesIn, { kind: 'telemetry', transport: 'ws' }),
    ).toBeGreaterThanOrEqual(1);
    const latency = await edge.metrics.deliverLatency.get();
    expect(
      latency.values.find((v) => v.metricName?.endsWith('_count'))?.value,
    ).toBeGreaterThanOrEqual(1);
  });

  it("a bare JSON object from a small device is that device's telemetry", async () => {
    const dashboard = await connect({ sub: 'ops', role: 'dashboard' });
    dashboard.send({ type: 'subscribe', id: 's', topics: ['devices/esp-7/telemetry'] });
    await dashboard.next();
    const device = await connect({ sub: 'esp-7', role: 'device' });
    const bare = { type: 'temperature_update', value: 23.5, timestamp: '2025-05-29T12:45:00Z' };
    device.ws.send(JSON.stringify(bare));
    expect(await dashboard.next()).toMatchObject({
      type: 'message',
      kind: 'telemetry',
      topic: 'devices/esp-7/telemetry',
      from: 'esp-7',
      data: bare,
    });
  });

  it('events and status land on their own topics; a device cannot speak for another', async () => {
    const dashboard = await connect({ sub: 'ops', role: 'dashboard' });
    dashboard.send({ type: 'subscribe', id: 's', topics: ['devices/dev-2/#'] });
    await dashboard.next();
    const device = await connect({ sub: 'dev-2', role: 'device' });
    expect(await dashboard.next()).toMatchObject({ kind: 'presence', data: { online: true } });
    device.send({ type: 'event', name: 'door.open', data: { by: 'x' } });
    device.send({ type: 'status', data: { battery: 80 } });
    device.send({ type: 'publish', id: 'p1', topic: 'devices/dev-3/telemetry', data: {} });
    // Its own subtree, but where only the edge publishes (presence, state, commands, answers,
    // streams): it would pass for the edge's own message.
    for (const level of ['presence', 'state', 'commands/reboot', 'answers', 'streams/cam']) {
      device.send({ type: 'publish', id: level, topic: `devices/dev-2/${level}`, data: {} });
    }
    expect(await dashboard.next()).toMatchObject({
      kind: 'event',
      topic: 'devices/dev-2/events/door.open',
    });
    expect(await dashboard.next()).toMatchObject({ kind: 'status', topic: 'devices/dev-2/status' });
    expect(await device.next()).toMatchObject({ type: 'error', code: 'forbidden', ref: 'p1' });
    for (const level of ['presence', 'state', 'commands/reboot', 'answers', 'streams/cam']) {
      expect(await device.next()).toMatchObject({ type: 'error', code: 'forbidden', ref: level });
    }
    expect(await dashboard.roundTrip()).toEqual([]);
  });

  it('unsubscribe stops delivery; other tenants never see each other', async () => {
    const dashboard = await connect({ sub: 'ops', role: 'dashboard' });
    const other = await connect({ sub: 'ops', role: 'dashboard', tenant: 'globex' });
    for (const d of [dashboard, other]) {
      d.send({ type: 'subscribe', id: 's', topics: ['devices/#'] });
      await d.next();
    }
    const device = await connect({ sub: 'dev-4', role: 'device' });
    expect(await dashboard.next()).toMatchObject({ kind: 'presence', data: { online: true } });
    device.send({ type: 'telemetry', data: { n: 1 } });
    expect(await dashboard.next()).toMatchObject({ data: { n: 1 } });
    dashboard.send({ type: 'unsubscribe', id: 'u', topics: ['devices/#'] });
    expect(await dashboard.next()).toEqual({ type: 'ack', id: 'u' });
    device.send({ type: 'telemetry', data: { n: 2 } });
    await device.roundTrip();
    expect(await dashboard.roundTrip()).toEqual([]);
    expect(await other.roundTrip()).toEqual([]);
    await device.close();
    expect(await other.roundTrip()).toEqual([]);
  });

  it('presence: online and offline events, and the presence API with last seen', async () => {
    const dashboard = await connect({ sub: 'ops', role: 'dashboard' });
    dashboard.send({ type: 'subscribe', id: 's', topics: ['devices/+/presence'] });
    await dashboard.next();
    const device = await connect({ sub: 'dev-6', role: 'device' });
    expect(await dashboard.next()).toMatchObject({
      topic: 'devices/dev-6/presence',
      data: { online: true },
    });
    const token = mintToken({ sub: 'ops', role: 'dashboard' });
    const online = await httpGet(edge.port, '/api/devices/dev-6/presence', token);
    expect(JSON.parse(online.body)).toMatchObject({
      deviceId: 'dev-6',
      online: true,
      node: 'test-node',
    });
    await device.close();
    expect(await dashboard.next()).toMatchObject({
      topic: 'devices/dev-6/presence',
      data: { online: false, node: 'test-node' },
    });
    const narrow = mintToken({ sub: 'ops', role: 'dashboard', acl: { sub: ['devices/other/#'] } });
    const refused = await httpGet(edge.port, '/api/devices/dev-6/presence', narrow);
    expect([refused.status, JSON.parse(refused.body).error.code]).toEqual([403, 'forbidden']);
    const offline = JSON.parse(
      (await httpGet(edge.port, '/api/devices/dev-6/presence', token)).body,
    );
    expect(offline).toEqual({ deviceId: 'dev-6', online: false, lastSeen: expect.any(Number) });
  });

  it('reads a device id in the presence route percent-decoded, and refuses one no device can have', async () => {
    const device = await connect({ sub: 'unit:7@site', role: 'device' });
    const token = mintToken({ sub: 'ops', role: 'dashboard' });
    // What a browser's encodeURIComponent sends (the dashboard does).
    const encoded = await httpGet(edge.port, '/api/devices/unit%3A7%40site/presence', token);
    expect(JSON.parse(encoded.body)).toMatchObject({ deviceId: 'unit:7@site', online: true });
    const counted = (): Promise<number> =>
      valueOf(edge.metrics.httpRefusals, { reason: 'invalid_parameter' });
    const before = await counted();
    for (const bad of ['%2B', 'a%00b', 'x'.repeat(200), '%E0%A4%A']) {
      const refused = await httpGet(edge.port, `/api/devices/${bad}/presence`, token);
      expect([refused.status, JSON.parse(refused.body).error.code]).toEqual([
        400,
        'invalid_parameter',
      ]);
    }
    expect(await counted()).toBe(before + 4);
    await device.close();
  });

  it('leaves no state behind once every client is gone', async () => {
    const dashboard = await connect({ sub: 'ops', role: 'dashboard' });
    dashboard.send({ type: 'subscribe', topics: ['devices/+/telemetry', 'devices/x/#'] });
    await connect({ sub: 'dev-5', role: 'device' });
    await dashboard.roundTrip();
    expect(edge.server.stateSizes()).toMatchObject({ patterns: 2, devices: 1 });
    await Promise.all(open.splice(0).map((c) => c.close()));
    expect(edge.server.stateSizes()).toEqual({
      sockets: 0,
      patterns: 0,
      devices: 0,
      pendingCommands: 0,
      recoveries: 0,
      streamBudgets: 0,
    });
  });
});

describe('subscriptions are checked against the token', () => {
  it('refuses patterns outside the claims and malformed patterns, applying none', async () => {
    const dashboard = await connect({
      sub: 'ops',
      role: 'dashboard',
      acl: { sub: ['devices/+/telemetry'] },
    });
    dashboard.send({ type: 'subscribe', id: 'a', topics: ['devices/+/telemetry', 'devices/#'] });
    expect(await dashboard.next()).toMatchObject({ type: 'error', code: 'forbidden', ref: 'a' });
    dashboard.send({ type: 'subscribe', id: 'b', topics: ['devices/#/x'] });
    expect(await dashboard.next()).toMatchObject({ type: 'error', code: 'bad_topic', ref: 'b' });
    expect(edge.server.stateSizes().patterns).toBe(0);
  });
});

describe('invalid input is answered, counted, and repeated abuse closes with 1008', () => {
  it('bad frames and bad messages get error replies; the tenth closes the socket', async () => {
    const dashboard = await connect({ sub: 'ops', role: 'dashboard' });
    const before = await valueOf(edge.metrics.protocolErrors, { code: 'bad_frame' });
    dashboard.ws.send('{not json');
    expect(await dashboard.next()).toMatchObject({ type: 'error', code: 'bad_frame' });
    dashboard.ws.send(Buffer.from([0xc1]), { binary: true });
    expect(await dashboard.next()).toMatchObject({
      type: 'error',
      code: 'bad_frame',
      message: /MessagePack/,
    });
    dashboard.send({ type: 'temperature_update', id: 'q' });
    expect(await dashboard.next()).toMatchObject({ type: 'error', code: 'bad_message', ref: 'q' });
    dashboard.send({ type: 'telemetry', data: {} });
    expect(await dashboard.next()).toMatchObject({ type: 'error', code: 'not_allowed' });
    expect(await valueOf(edge.metrics.protocolErrors, { code: 'bad_frame' })).toBe(before + 2);
    for (let i = 4; i < 10; i++) dashboard.ws.send('nope');
    expect(await dashboard.closed).toEqual({ code: 1008, reason: 'too many invalid messages' });
  });
});

describe('commands', () => {
  it('dashboard → device → ack with result back to the dashboard', async () => {
    const device = await connect({ sub: 'car-1', role: 'device' });
    const dashboard = await connect({ sub: 'ops', role: 'dashboard' });
    dashboard.send({
      type: 'command',
      id: 'c1',
      target: 'car-1',
      name: 'forward',
      params: { speed: 3 },
    });
    expect(await device.next()).toEqual({
      type: 'command',
      id: 'c1',
      from: 'ops',
      name: 'forward',
      params: { speed: 3 },
    });
    device.send({ type: 'ack', id: 'c1', result: { moved: true } });
    expect(await dashboard.next()).toEqual({ type: 'ack', id: 'c1', result: { moved: true } });

    dashboard.send({ type: 'command', id: 'c2', target: 'car-1', name: 'fly' });
    await device.next();
    device.send({ type: 'nack', id: 'c2', reason: 'unsupported', message: 'cars do not fly' });
    expect(await dashboard.next()).toEqual({
      type: 'nack',
      id: 'c2',
      reason: 'unsupported',
      message: 'cars do not fly',
    });
  });

  it('an offline device answers nack offline at once; a silent one nack timeout', async () => {
    const dashboard = await connect({ sub: 'ops', role: 'dashboard' });
    dashboard.send({ type: 'command', id: 'c3', target: 'nobody', name: 'x' });
    expect(await dashboard.next()).toEqual({ type: 'nack', id: 'c3', reason: 'offline' });
    const device = await connect({ sub: 'car-2', role: 'device' });
    dashboard.send({ type: 'command', id: 'c4', target: 'car-2', name: 'x', timeoutMs: 200 });
    expect(await device.next()).toMatchObject({ type: 'command', id: 'c4' });
    expect(await dashboard.next()).toEqual({ type: 'nack', id: 'c4', reason: 'timeout' });
    // A late ack after the timeout is dropped, not forwarded.
    device.send({ type: 'ack', id: 'c4' });
    expect(await dashboard.roundTrip()).toEqual([]);
  });

  it('a device that disconnects with a command pending makes it nack offline', async () => {
    const device = await connect({ sub: 'car-3', role: 'device' });
    const dashboard = await connect({ sub: 'ops', role: 'dashboard' });
    dashboard.send({ type: 'command', id: 'c5', target: 'car-3', name: 'x', timeoutMs: 60_000 });
    await device.next();
    await device.close();
    expect(await dashboard.next()).toMatchObject({ type: 'nack', id: 'c5', reason: 'offline' });
  });

  it('a token narrowed to some devices commands only those (nack forbidden; HTTP 403)', async () => {
    const device = await connect({ sub: 'car-7', role: 'device' });
    const claims: TokenClaims = {
      sub: 'ops',
      role: 'dashboard',
      acl: { sub: ['devices/car-6/#'] },
    };
    const narrow = await connect(claims);
    narrow.send({ type: 'command', id: 'c7', target: 'car-7', name: 'x' });
    expect(await narrow.next()).toMatchObject({ type: 'nack', id: 'c7', reason: 'forbidden' });
    const http = await httpRequest(edge.port, 'POST', '/api/commands', mintToken(claims), {
      target: 'car-7',
      name: 'x',
    });
    expect([http.status, JSON.parse(http.body).error.code]).toEqual([403, 'forbidden']);
    // The device heard nothing: its next message is the answer to its own ping.
    expect(await device.roundTrip()).toEqual([]);
  });

  it('devices may not send commands; a second connection of a device replaces the first (4002)', async () => {
    const first = await connect({ sub: 'car-4', role: 'device' });
    first.send({ type: 'command', id: 'c6', target: 'car-4', name: 'x' });
    expect(await first.next()).toMatchObject({ type: 'error', code: 'not_allowed', ref: 'c6' });
    await connect({ sub: 'car-4', role: 'device' });
    expect(await first.closed).toEqual({ code: 4002, reason: 'replaced by a newer connection' });
  });
});

describe('the connection ends when its token does', () => {
  it('closes with 4001 at exp', async () => {
    const client = new TestClient(
      `${edge.url}?token=${mintToken({ sub: 'd', role: 'device' }, { expiresIn: 1 })}`,
    );
    await client.opened;
    expect(await client.closed).toEqual({ code: 4001, reason: 'token expired' });
  });
});

describe('welcome comes first', () => {
  it('even when the client writes before it arrives', async () => {
    const client = new TestClient(
      `${edge.url}?token=${mintToken({ sub: 'eager', role: 'device' })}`,
    );
    open.push(client);
    client.ws.once('open', () => client.send({ type: 'ping', id: 'early' }));
    await client.opened;
    expect((await client.next()).type).toBe('welcome');
    expect(await client.next()).toMatchObject({ type: 'pong', id: 'early' });
  });
});

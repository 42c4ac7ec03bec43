import { expect, it } from 'vitest';

import type { ClusterUnderTest } from './cluster-scenarios.js';
import { httpRequest, mintToken, type Received, type TestClient } from './test-support.js';

const dashboard = mintToken({ sub: 'ops', role: 'dashboard' });

async function patch(
  port: number,
  deviceId: string,
  body: unknown,
  headers: Record<string, string> = {},
  token = dashboard,
) {
  const res = await httpRequest(
    port,
    'PATCH',
    `/v1/devices/${deviceId}/state`,
    token,
    body,
    headers,
  );
  return { status: res.status, body: JSON.parse(res.body), etag: res.headers['etag'] };
}

async function get(port: number, deviceId: string, token = dashboard) {
  const res = await httpRequest(port, 'GET', `/v1/devices/${deviceId}/state`, token);
  return { status: res.status, body: JSON.parse(res.body), etag: res.headers['etag'] };
}

/** The next message of a kind, skipping others (presence, acks of earlier requests). */
async function nextOf(client: TestClient, type: string): Promise<Received> {
  for (;;) {
    const message = await client.next();
    if (message.type === type) return message;
  }
}

/**
 * Device state across two edge nodes that share one store and one bus: over the in-memory bus
 * and PGlite (unit tier) and over Redis and PostgreSQL (integration tier). Each case uses its
 * own device ids, so the cases share the database without seeing each other.
 */
export function stateScenarios(cluster: () => ClusterUnderTest): void {
  it('desired set while the device is offline is delivered on its next connect; its report closes the delta', async () => {
    const { a, b, connect } = cluster();
    const set = await patch(b.port, 'lamp-1', { desired: { led: true, target_temperature: 21 } });
    expect(set.status).toBe(200);
    expect(set.body).toMatchObject({ version: 1, delta: { led: true, target_temperature: 21 } });
    expect(set.etag).toBe('"1"');

    const watcher = await connect(b, { sub: 'ops', role: 'dashboard' });
    watcher.send({ type: 'subscribe', id: 's', topics: ['devices/+/state'] });
    expect(await watcher.next()).toEqual({ type: 'ack', id: 's' });

    const device = await connect(a, { sub: 'lamp-1', role: 'device' });
    expect(await device.next()).toEqual({
      type: 'state',
      version: 1,
      desired: { led: true, target_temperature: 21 },
      delta: { led: true, target_temperature: 21 },
    });
    device.send({
      type: 'state.report',
      id: 'r1',
      reported: { led: true, target_temperature: 21 },
    });
    expect(await device.next()).toEqual({ type: 'ack', id: 'r1' });

    const change = await nextOf(watcher, 'message');
    expect(change).toMatchObject({
      kind: 'state',
      topic: 'devices/lamp-1/state',
      from: 'lamp-1',
      data: { version: 2, delta: {}, reported: { led: true, target_temperature: 21 } },
    });
    const now = await get(a.port, 'lamp-1');
    expect([now.status, now.body.delta, now.body.version, now.etag]).toEqual([200, {}, 2, '"2"']);
    // Nothing more for the device: its report changed nothing it has to do.
    expect(await device.roundTrip()).toEqual([]);
  });

  it('a desired change reaches the device on the other node, over WebSocket and HTTP alike', async () => {
    const { a, b, connect } = cluster();
    const device = await connect(a, { sub: 'lamp-2', role: 'device' });
    const ops = await connect(b, { sub: 'ops', role: 'dashboard' });
    ops.send({ type: 'state.set', id: 'w1', target: 'lamp-2', desired: { led: true } });
    const ack = await ops.next();
    expect(ack).toMatchObject({
      type: 'ack',
      id: 'w1',
      result: { version: 1, delta: { led: true } },
    });
    expect(await device.next()).toEqual({
      type: 'state',
      version: 1,
      desired: { led: true },
      delta: { led: true },
    });
    const http = await patch(b.port, 'lamp-2', { desired: { led: false } }, { 'if-match': '"1"' });
    expect(http.status).toBe(200);
    expect(await device.next()).toMatchObject({ type: 'state', version: 2, delta: { led: false } });
    // A stale version over WebSocket: nack conflict, not an error (it is a race, not abuse).
    ops.send({ type: 'state.set', id: 'w2', target: 'lamp-2', desired: { led: true }, version: 1 });
    expect(await ops.next()).toEqual({
      type: 'nack',
      id: 'w2',
      reason: 'conflict',
      message: 'the state is at version 2, not 1',
    });
    ops.send({ type: 'state.get', id: 'g1', target: 'lamp-2' });
    expect(await ops.next()).toMatchObject({ type: 'ack', id: 'g1', result: { version: 2 } });
    expect(await device.roundTrip()).toEqual([]);
  });

  it('of two concurrent PATCHes at the same version, on two nodes, exactly one applies', async () => {
    const { a, b } = cluster();
    await patch(a.port, 'lamp-3', { desired: { led: false } });
    const [one, two] = await Promise.all([
      patch(a.port, 'lamp-3', { desired: { led: true }, version: 1 }),
      patch(b.port, 'lamp-3', { desired: { led: false, mode: 'eco' }, version: 1 }),
    ]);
    expect([one.status, two.status].sort()).toEqual([200, 409]);
    const loser = one.status === 409 ? one : two;
    expect(loser.body).toEqual({
      error: { code: 'version_conflict', message: 'the state is at version 2, not 1' },
    });
    const [three, four] = await Promise.all([
      patch(a.port, 'lamp-3', { desired: { led: true } }, { 'if-match': '"2"' }),
      patch(b.port, 'lamp-3', { desired: { led: true } }, { 'if-match': 'W/"2"' }),
    ]);
    expect([three.status, four.status].sort()).toEqual([200, 412]);
    expect((three.status === 412 ? three : four).body.error.code).toBe('precondition_failed');
    expect((await get(b.port, 'lamp-3')).body.version).toBe(3);
  });

  it('keeps tenants apart and checks roles and ACLs, on HTTP and WebSocket', async () => {
    const { a, connect } = cluster();
    await patch(a.port, 'lamp-4', { desired: { led: true } });
    const globex = mintToken({ sub: 'ops', role: 'dashboard', tenant: 'globex' });
    expect((await get(a.port, 'lamp-4', globex)).body.version).toBe(0);
    const narrow = mintToken({ sub: 'ops', role: 'dashboard', acl: { sub: ['devices/other/#'] } });
    expect(await patch(a.port, 'lamp-4', { desired: { led: false } }, {}, narrow)).toMatchObject({
      status: 403,
      body: { error: { code: 'forbidden' } },
    });
    const self = mintToken({ sub: 'lamp-4', role: 'device' });
    expect((await get(a.port, 'lamp-4', self)).body.desired).toEqual({ led: true });
    expect((await get(a.port, 'lamp-5', self)).status).toBe(403);
    expect(await patch(a.port, 'lamp-4', { desired: { led: false } }, {}, self)).toMatchObject({
      status: 403,
      body: { error: { code: 'role_not_allowed' } },
    });
    expect((await httpRequest(a.port, 'GET', '/v1/devices/lamp-4/state')).status).toBe(401);
    // A gateway reads its own state and its sub-devices', as it reports them; no other device's.
    const gateway = mintToken({ sub: 'gw-4', role: 'gateway', subdevices: { ids: ['lamp-4'] } });
    expect((await get(a.port, 'gw-4', gateway)).status).toBe(200);
    expect((await get(a.port, 'lamp-4', gateway)).body.desired).toEqual({ led: true });
    expect((await get(a.port, 'lamp-5', gateway)).status).toBe(403);

    const device = await connect(a, { sub: 'lamp-4', role: 'device' });
    expect(await device.next()).toMatchObject({ type: 'state', delta: { led: true } });
    device.send({ type: 'state.set', id: 'x', target: 'lamp-4', desired: { led: false } });
    expect(await device.next()).toMatchObject({ type: 'error', code: 'not_allowed', ref: 'x' });
    const spy = await connect(a, { sub: 'spy', role: 'dashboard', acl: { sub: ['devices/x/#'] } });
    spy.send({ type: 'state.get', id: 'g', target: 'lamp-4' });
    expect(await spy.next()).toMatchObject({ type: 'error', code: 'forbidden', ref: 'g' });
  });

  it('answers bad requests from the HTTP error catalogue and oversized state with limit_exceeded', async () => {
    const { a, connect } = cluster();
    const cases: [unknown, Record<string, string>, number, string][] = [
      ['{not json', {}, 400, 'bad_request'],
      [{ desired: 'on' }, {}, 400, 'bad_request'],
      // Not a size: a key that is no state key is a bad request.
      [{ desired: { 'bad key': 1 } }, {}, 400, 'bad_request'],
      [{ desired: { é: 1 } }, {}, 400, 'bad_request'],
      [{ desired: { blob: 'x'.repeat(9000) } }, {}, 400, 'limit_exceeded'],
      [`{"desired":${'['.repeat(40)}${']'.repeat(40)}}`, {}, 400, 'limit_exceeded'],
      [{ desired: { led: true } }, { 'if-match': 'yesterday' }, 400, 'invalid_parameter'],
    ];
    for (const [body, headers, status, code] of cases) {
      const res = await patch(a.port, 'lamp-6', body, headers);
      expect([res.status, res.body.error.code]).toEqual([status, code]);
    }
    expect((await patch(a.port, 'bad%20id', { desired: {} })).body.error.code).toBe(
      'invalid_parameter',
    );
    const put = await httpRequest(a.port, 'PUT', '/v1/devices/lamp-6/state', dashboard, {});
    expect([put.status, put.headers['allow']]).toEqual([405, 'GET, PATCH']);
    expect((await get(a.port, 'lamp-6')).body.version).toBe(0);

    const device = await connect(a, { sub: 'lamp-6', role: 'device' });
    device.send({ type: 'state.report', id: 'big', reported: { blob: 'x'.repeat(9000) } });
    expect(await device.next()).toMatchObject({
      type: 'error',
      code: 'limit_exceeded',
      ref: 'big',
    });
    device.send({ type: 'state.report', id: 'key', reported: { 'a b': 1 } });
    expect(await device.next()).toMatchObject({ type: 'error', code: 'bad_message', ref: 'key' });
  });
}

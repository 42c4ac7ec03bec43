import { expect, it } from 'vitest';

import type { TestClient } from './test-support.js';
import {
  expectCommandRoundTrip,
  httpGet,
  httpRequest,
  mintToken,
  type TestEdge,
} from './test-support.js';

export interface ClusterUnderTest {
  a: TestEdge;
  b: TestEdge;
  /** Opens a client on a node and closes it after the test. */
  connect(
    edge: TestEdge,
    claims: Parameters<typeof mintToken>[0],
    format?: 'json' | 'msgpack',
  ): Promise<TestClient>;
}

/**
 * What two edge nodes must do together, whatever carries messages between them: run over the
 * in-memory bus (several nodes in one process, unit tier) and over Redis (integration tier).
 * Node ids are `node-a` and `node-b`.
 */
export function clusterScenarios(cluster: () => ClusterUnderTest): void {
  it('device on A → dashboards on B (wildcard, JSON and MessagePack), once each, in order', async () => {
    const json = await cluster().connect(cluster().b, { sub: 'ops', role: 'dashboard' });
    const packed = await cluster().connect(
      cluster().b,
      { sub: 'ops2', role: 'dashboard' },
      'msgpack',
    );
    for (const d of [json, packed]) {
      // Two overlapping patterns on B still mean one crossing of Redis per publish.
      d.send({ type: 'subscribe', id: 's', topics: ['devices/+/telemetry'] });
      expect(await d.next()).toEqual({ type: 'ack', id: 's' });
    }
    const device = await cluster().connect(cluster().a, { sub: 'car-1', role: 'device' });
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
    const remote = (await cluster().b.metrics.deliverLatency.get()).values.find(
      (v) => v.metricName?.endsWith('_count') && v.labels['path'] === 'remote',
    );
    expect(remote?.value).toBeGreaterThanOrEqual(51);
  });

  it('no double delivery on the publisher’s own node', async () => {
    const local = await cluster().connect(cluster().a, { sub: 'ops', role: 'dashboard' });
    const remote = await cluster().connect(cluster().b, { sub: 'ops', role: 'dashboard' });
    for (const d of [local, remote]) {
      d.send({ type: 'subscribe', id: 's', topics: ['devices/car-2/telemetry'] });
      await d.next();
    }
    const device = await cluster().connect(cluster().a, { sub: 'car-2', role: 'device' });
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
    const device = await cluster().connect(cluster().a, { sub: 'car-3', role: 'device' });
    const dashboard = await cluster().connect(cluster().b, { sub: 'ops', role: 'dashboard' });
    await expectCommandRoundTrip(dashboard, device, 'car-3');

    const service = mintToken({ sub: 'backend', role: 'service' });
    const answered = httpRequest(cluster().b.port, 'POST', '/api/commands', service, {
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
    expect(cluster().b.server.stateSizes().pendingCommands).toBe(0);
    expect(cluster().a.server.stateSizes().pendingCommands).toBe(0);
  });

  it('answers without id take the oldest pending command, whichever node its sender is on', async () => {
    const device = await cluster().connect(cluster().a, { sub: 'car-5', role: 'device' });
    const far = await cluster().connect(cluster().b, { sub: 'ops-b', role: 'dashboard' });
    const near = await cluster().connect(cluster().a, { sub: 'ops-a', role: 'dashboard' });
    far.send({ type: 'command', id: 'f1', target: 'car-5', name: 'forward' });
    expect(await device.next()).toMatchObject({ type: 'command', id: 'f1' });
    near.send({ type: 'command', id: 'n1', target: 'car-5', name: 'stop' });
    expect(await device.next()).toMatchObject({ type: 'command', id: 'n1' });
    device.send({ type: 'ack', result: 'moving' });
    expect(await far.next()).toEqual({ type: 'ack', id: 'f1', result: 'moving' });
    device.send({ type: 'nack', reason: 'busy' });
    expect(await near.next()).toEqual({ type: 'nack', id: 'n1', reason: 'busy' });
    device.send({ type: 'ack' });
    expect(await device.next()).toMatchObject({ type: 'error', code: 'no_pending_command' });
    expect(cluster().a.server.stateSizes().pendingCommands).toBe(0);
    expect(cluster().b.server.stateSizes().pendingCommands).toBe(0);
  });

  it('two senders on different nodes cannot share a pending command id: the second is refused', async () => {
    const { a, b } = cluster();
    const device = await cluster().connect(a, { sub: 'car-6', role: 'device' });
    const near = await cluster().connect(a, { sub: 'ops-a', role: 'dashboard' });
    const far = await cluster().connect(b, { sub: 'ops-b', role: 'dashboard' });
    near.send({ type: 'command', id: 'same', target: 'car-6', name: 'x', timeoutMs: 5_000 });
    expect(await device.next()).toMatchObject({ type: 'command', id: 'same', from: 'ops-a' });
    far.send({ type: 'command', id: 'same', target: 'car-6', name: 'y', timeoutMs: 5_000 });
    expect(await far.next()).toMatchObject({ type: 'nack', id: 'same', reason: 'invalid' });
    device.send({ type: 'ack', id: 'same', result: 'for ops-a' });
    expect(await near.next()).toEqual({ type: 'ack', id: 'same', result: 'for ops-a' });
    expect(await far.roundTrip()).toEqual([]);
    // And the other way round: a remote sender first, then a local one.
    far.send({ type: 'command', id: 'again', target: 'car-6', name: 'y', timeoutMs: 5_000 });
    expect(await device.next()).toMatchObject({ id: 'again', from: 'ops-b' });
    near.send({ type: 'command', id: 'again', target: 'car-6', name: 'x', timeoutMs: 5_000 });
    expect(await near.next()).toMatchObject({ type: 'nack', id: 'again', reason: 'invalid' });
    device.send({ type: 'ack', id: 'again', result: 'for ops-b' });
    expect(await far.next()).toEqual({ type: 'ack', id: 'again', result: 'for ops-b' });
  });

  it('offline device: nack offline at once; silent device: nack timeout; HTTP maps them to 404 and 504', async () => {
    const dashboard = await cluster().connect(cluster().b, { sub: 'ops', role: 'dashboard' });
    dashboard.send({ type: 'command', id: 'c2', target: 'nowhere', name: 'x' });
    expect(await dashboard.next()).toEqual({ type: 'nack', id: 'c2', reason: 'offline' });
    const device = await cluster().connect(cluster().a, { sub: 'car-4', role: 'device' });
    dashboard.send({ type: 'command', id: 'c3', target: 'car-4', name: 'x', timeoutMs: 300 });
    expect(await device.next()).toMatchObject({ id: 'c3' });
    expect(await dashboard.next()).toEqual({ type: 'nack', id: 'c3', reason: 'timeout' });

    const service = mintToken({ sub: 'backend', role: 'service' });
    const offline = await httpRequest(cluster().b.port, 'POST', '/api/commands', service, {
      target: 'nowhere',
      name: 'x',
    });
    expect([offline.status, JSON.parse(offline.body).reason]).toEqual([404, 'offline']);
    const timeout = httpRequest(cluster().b.port, 'POST', '/api/commands', service, {
      target: 'car-4',
      name: 'x',
      timeoutMs: 300,
    });
    await device.next();
    const timedOut = await timeout;
    expect([timedOut.status, JSON.parse(timedOut.body).reason]).toEqual([504, 'timeout']);
    const bad = await httpRequest(cluster().b.port, 'POST', '/api/commands', service, {
      name: 'x',
    });
    expect(bad.status).toBe(400);
    const device2 = await httpRequest(
      cluster().b.port,
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
    const watcher = await cluster().connect(cluster().a, { sub: 'ops', role: 'dashboard' });
    watcher.send({ type: 'subscribe', id: 's', topics: ['devices/car-5/presence'] });
    await watcher.next();
    const first = await cluster().connect(cluster().a, { sub: 'car-5', role: 'device' });
    expect(await watcher.next()).toMatchObject({ data: { online: true, node: 'node-a' } });
    await cluster().connect(cluster().b, { sub: 'car-5', role: 'device' });
    // A's renewal lets go of a device another node holds, even if the takeover message raced
    // A's own subscription to the device's inbox.
    await cluster().a.server.presenceTracker.tick();
    expect(await watcher.next()).toMatchObject({ data: { online: true, node: 'node-b' } });
    expect(await first.closed).toEqual({ code: 4002, reason: 'replaced by a newer connection' });
    const token = mintToken({ sub: 'ops', role: 'dashboard' });
    const presence = JSON.parse(
      (await httpGet(cluster().a.port, '/api/devices/car-5/presence', token)).body,
    );
    expect(presence).toMatchObject({ deviceId: 'car-5', online: true, node: 'node-b' });
    // The replaced connection left quietly: no offline event.
    expect(await watcher.roundTrip()).toEqual([]);
  });
}

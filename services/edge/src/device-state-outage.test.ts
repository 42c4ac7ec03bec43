import { StoreError, type DeviceStateStore } from '@fleetwire/store';
import { emptyState } from '@fleetwire/protocol';
import { waitFor } from '@fleetwire/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import {
  TestClient,
  httpGet,
  httpRequest,
  mintToken,
  startTestEdge,
  type TestEdge,
} from './test-support.js';

/** A state database that can be switched off: what an edge does while PostgreSQL is away. */
class SwitchableStore implements DeviceStateStore {
  down = false;
  private check(): void {
    if (this.down) throw new StoreError('store_unavailable', 'connect ECONNREFUSED 127.0.0.1:5432');
  }
  async get(_tenant: string, deviceId: string) {
    this.check();
    return emptyState(deviceId);
  }
  async setDesired(_tenant: string, deviceId: string, patch: Record<string, unknown>) {
    this.check();
    return { ...emptyState(deviceId), version: 1, desired: patch, delta: patch };
  }
  async report(_tenant: string, deviceId: string, patch: Record<string, unknown>) {
    this.check();
    return { ...emptyState(deviceId), version: 1, reported: patch };
  }
}

describe('device state while its database is down', () => {
  const store = new SwitchableStore();
  let edge: TestEdge;
  const dashboard = mintToken({ sub: 'ops', role: 'dashboard' });

  beforeAll(async () => {
    edge = await startTestEdge({ deviceState: store });
  });
  afterAll(() => edge?.close());

  it('answers 503 state_unavailable and nack retry, says so in /health, stays ready, and recovers', async () => {
    const device = await TestClient.open(edge.url, mintToken({ sub: 'lamp', role: 'device' }));
    const ops = await TestClient.open(edge.url, dashboard);
    try {
      store.down = true;
      const res = await httpRequest(edge.port, 'PATCH', '/v1/devices/lamp/state', dashboard, {
        desired: { led: true },
      });
      expect([res.status, res.headers['retry-after'], JSON.parse(res.body)]).toEqual([
        503,
        '5',
        {
          error: {
            code: 'state_unavailable',
            message: 'the device state store is not reachable; retry',
          },
        },
      ]);
      device.send({ type: 'state.report', id: 'r', reported: { led: false } });
      expect(await device.next()).toEqual({
        type: 'nack',
        id: 'r',
        reason: 'retry',
        message: 'the device state store is unavailable',
      });
      ops.send({ type: 'state.set', id: 's', target: 'lamp', desired: { led: true } });
      expect(await ops.next()).toMatchObject({ type: 'nack', id: 's', reason: 'retry' });
      const health = JSON.parse((await httpGet(edge.port, '/health')).body);
      expect(health.dependencies.state_store).toEqual({
        up: false,
        reason: 'device state store: connect ECONNREFUSED 127.0.0.1:5432',
      });
      expect((await httpGet(edge.port, '/readyz')).status).toBe(200);
      expect(await edge.metricsText()).toMatch(
        /fleetwire_dependency_up\{[^}]*dependency="state_store"[^}]*\} 0/,
      );
      // Telemetry and pings are not affected.
      device.send({ type: 'telemetry', id: 't', data: { n: 1 } });
      expect(await device.next()).toEqual({ type: 'ack', id: 't' });

      // Back: with no state traffic at all, the next look at /health (its probe) finds out.
      store.down = false;
      await waitFor('the state store seen up again', async () => {
        const after = JSON.parse((await httpGet(edge.port, '/health')).body);
        return after.dependencies.state_store.up === true;
      });
      device.send({ type: 'state.report', id: 'r2', reported: { led: false } });
      expect(await device.next()).toEqual({ type: 'ack', id: 'r2' });
    } finally {
      device.ws.terminate();
      ops.ws.terminate();
    }
  }, 20_000);
});

import { emptyState, type DeviceStateDocument } from '@fleetwire/protocol';
import type { DeviceStateStore } from '@fleetwire/store';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

import {
  MAX_STATE_RUNNING_PER_TENANT,
  MAX_STATE_WAITING_PER_TENANT,
} from './core/device-states.js';
import {
  TestClientPool,
  httpRequest,
  mintToken,
  startTestEdge,
  valueOf,
  type TestEdge,
} from './test-support.js';

const clients = new TestClientPool();
const { connect } = clients;

/** Answers every tenant at once, except `acme`, whose operations wait until released. */
class HeldTenantStore implements DeviceStateStore {
  private readonly held: (() => void)[] = [];

  private answer(tenant: string, deviceId: string): Promise<DeviceStateDocument> {
    const doc = emptyState(deviceId);
    if (tenant !== 'acme') return Promise.resolve(doc);
    return new Promise((resolve) => this.held.push(() => resolve(doc)));
  }

  get(tenant: string, deviceId: string) {
    return this.answer(tenant, deviceId);
  }
  setDesired(tenant: string, deviceId: string) {
    return this.answer(tenant, deviceId);
  }
  report(tenant: string, deviceId: string) {
    return this.answer(tenant, deviceId);
  }
  release(): void {
    for (const answer of this.held.splice(0)) answer();
  }
}

describe('device state operations in flight per tenant', () => {
  const store = new HeldTenantStore();
  let edge: TestEdge;
  beforeAll(async () => {
    edge = await startTestEdge({
      deviceState: store,
      limits: { ratePerSec: 10_000, rateBurst: 10_000 },
    });
  });
  afterEach(() => {
    store.release();
    clients.terminateAll();
  });
  afterAll(() => edge.close());

  it('past its line a tenant’s are refused at once (nack retry, HTTP 503 state_busy, error without id); its devices’ reports and another tenant’s are not', async () => {
    const ops = await connect(edge, { sub: 'ops', role: 'dashboard' });
    const line = MAX_STATE_RUNNING_PER_TENANT + MAX_STATE_WAITING_PER_TENANT;
    for (let n = 0; n < line; n++) {
      ops.send({ type: 'state.get', id: `g${n}`, target: 'lamp' });
    }
    ops.send({ type: 'state.set', id: 'over', target: 'lamp', desired: { on: true } });
    expect(await ops.next()).toMatchObject({ type: 'nack', id: 'over', reason: 'retry' });
    ops.send({ type: 'state.set', target: 'lamp', desired: { on: true } });
    expect(await ops.next()).toMatchObject({ type: 'error', code: 'rate_limited' });
    const http = await httpRequest(
      edge.port,
      'GET',
      '/v1/devices/lamp/state',
      mintToken({ sub: 'ops', role: 'dashboard' }),
    );
    expect([http.status, JSON.parse(http.body).error.code]).toEqual([503, 'state_busy']);
    expect(await valueOf(edge.metrics.stateBusy)).toBe(3);
    // Not a database failure.
    expect(
      await valueOf(edge.metrics.dependencyFailures, {
        dependency: 'store',
        operation: 'device state',
      }),
    ).toBe(0);

    // The tenant's devices have a line of their own: a report waits at the store, not refused.
    const lamp = await connect(edge, { sub: 'lamp', role: 'device' });
    lamp.send({ type: 'state.report', id: 'r', reported: { on: false } });
    expect(await lamp.roundTrip()).toEqual([]);
    const other = await connect(edge, { sub: 'ops', role: 'dashboard', tenant: 'globex' });
    other.send({ type: 'state.get', id: 'o', target: 'lamp' });
    expect(await other.next()).toMatchObject({ type: 'ack', id: 'o' });

    // Answered, the line moves: those waiting run, in order, and all are answered.
    for (let n = 0; n < line; n++) {
      await expect.poll(() => (store.release(), ops.pending), { interval: 5 }).toBeGreaterThan(0);
      expect(await ops.next()).toMatchObject({ type: 'ack', id: `g${n}` });
    }
    ops.send({ type: 'state.get', id: 'again', target: 'lamp' });
    // Taken this time (held at the store, not refused), and answered once released.
    expect(await ops.roundTrip()).toEqual([]);
    store.release();
    expect(await ops.next()).toMatchObject({ type: 'ack', id: 'again' });
  });
});

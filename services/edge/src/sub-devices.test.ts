import { waitFor } from '@fleetwire/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { TestClient, mintToken, startTestEdge, valueOf, type TestEdge } from './test-support.js';

let edge: TestEdge;

beforeAll(async () => {
  edge = await startTestEdge({ limits: { maxSubDevices: 2 } });
});
afterAll(() => edge.close());

describe('a gateway’s sub-devices on one node', () => {
  it('at most maxSubDevices at once; a detach frees a slot; nothing is left once the gateway leaves', async () => {
    const gateway = await TestClient.open(
      edge.url,
      mintToken({ sub: 'gw', role: 'gateway', subdevices: { pattern: 's-*' } }),
    );
    for (const device of ['s-1', 's-2']) {
      gateway.send({ type: 'attach', id: device, device });
      expect(await gateway.next()).toEqual({ type: 'ack', id: device });
    }
    gateway.send({ type: 'attach', id: 's-3', device: 's-3' });
    expect(await gateway.next()).toEqual({
      type: 'error',
      code: 'subdevice_not_attached',
      message: 'at most 2 sub-devices per gateway connection',
      ref: 's-3',
    });
    // Attaching one already attached is acked again, and takes no slot.
    gateway.send({ type: 'attach', id: 'again', device: 's-1' });
    expect(await gateway.next()).toEqual({ type: 'ack', id: 'again' });
    gateway.send({ type: 'detach', id: 'd', device: 's-2' });
    expect(await gateway.next()).toEqual({ type: 'ack', id: 'd' });
    gateway.send({ type: 'attach', id: 's-3', device: 's-3' });
    expect(await gateway.next()).toEqual({ type: 'ack', id: 's-3' });
    // The gateway and two sub-devices are devices of this node.
    expect(edge.server.stateSizes().devices).toBe(3);
    expect(await valueOf(edge.metrics.subDevices)).toBe(2);

    await gateway.close();
    await waitFor('the gateway gone', () => edge.server.stateSizes().sockets === 0);
    expect(edge.server.stateSizes()).toEqual({
      sockets: 0,
      patterns: 0,
      devices: 0,
      pendingCommands: 0,
      recoveries: 0,
      streamBudgets: 0,
    });
    expect(await valueOf(edge.metrics.subDevices)).toBe(0);
    const presence = await edge.server.presenceTracker.get('acme', 's-1');
    expect(presence).toMatchObject({ online: false, gateway: 'gw' });
  });
});

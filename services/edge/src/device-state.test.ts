import { MemoryBusHub, MemoryPresence } from '@fleetwire/bus';
import { SqlDeviceStateStore, createPgliteClient, migrate, type SqlClient } from '@fleetwire/store';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

import { stateScenarios } from './state-scenarios.js';
import { startTestEdge, type TestEdge, TestClientPool } from './test-support.js';
import { MqttTestClient } from './transports/mqtt/mqtt-test-client.js';

const clients = new TestClientPool();
const { connect } = clients;
let a: TestEdge;
let b: TestEdge;
let db: SqlClient;

describe('device state on two edge nodes over the in-memory bus and PGlite', () => {
  beforeAll(async () => {
    db = await createPgliteClient();
    await migrate(db);
    const hub = new MemoryBusHub();
    const presence = new MemoryPresence(30_000);
    const node = (name: string): Promise<TestEdge> =>
      startTestEdge({
        env: { FLEETWIRE_NODE_ID: name },
        bus: hub.connect(name),
        presence,
        deviceState: new SqlDeviceStateStore(db),
      });
    a = await node('node-a');
    b = await node('node-b');
    // PGlite takes seconds to start on a busy machine.
  }, 60_000);
  afterEach(() => {
    clients.terminateAll();
  });
  afterAll(async () => {
    a.close();
    b.close();
    await db.close();
  });

  stateScenarios(() => ({ a, b, connect }));

  it('an MQTT device gets its desired-state changes on devices/<sub>/state/delta', async () => {
    const device = await MqttTestClient.connect(a.port, { sub: 'mqtt-lamp', role: 'device' });
    try {
      const ops = await connect(b, { sub: 'ops', role: 'dashboard' });
      ops.send({ type: 'state.set', id: 'm1', target: 'mqtt-lamp', desired: { led: true } });
      expect(await ops.next()).toMatchObject({ type: 'ack', id: 'm1' });
      expect(await device.next()).toEqual({
        topic: 'devices/mqtt-lamp/state/delta',
        data: { type: 'state', version: 1, desired: { led: true }, delta: { led: true } },
        retain: false,
      });
    } finally {
      await device.end();
    }
  });
});

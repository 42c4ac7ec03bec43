import { MemoryTelemetryLog } from '@fleetwire/telemetry-log';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { TestClient, mintToken, startTestEdge, type TestEdge } from './test-support.js';

let log: MemoryTelemetryLog;
let edge: TestEdge;

beforeAll(async () => {
  log = new MemoryTelemetryLog();
  edge = await startTestEdge({ telemetrySink: log });
});
afterAll(() => edge.close());

describe('telemetry records handed to the log', () => {
  it('carry the device id or a generated one, and the device time when plausible', async () => {
    const device = await TestClient.open(edge.url, mintToken({ sub: 'd1', role: 'device' }));
    const sentAt = Date.now() - 60_000;
    device.send({ type: 'telemetry', id: 'm1', ts: sentAt, data: { a: 1 } });
    expect(await device.next()).toEqual({ type: 'ack', id: 'm1' });
    device.send({ type: 'telemetry', id: 'm2', ts: 1_000, data: { a: 2 } }); // 1970: not believed
    expect(await device.next()).toEqual({ type: 'ack', id: 'm2' });
    device.send({ type: 'telemetry', data: { a: 3 } });
    await device.roundTrip();
    const { records } = log.read(0, 10);
    expect(records).toHaveLength(3);
    expect(records[0]).toMatchObject({
      v: 1,
      tenant: 'acme',
      deviceId: 'd1',
      msgId: 'm1',
      ts: sentAt,
    });
    expect(records[1]?.ts).toBeGreaterThan(sentAt);
    expect(records[2]?.msgId).toMatch(/^[0-9a-f-]{36}$/);
    await device.close();
  });
});

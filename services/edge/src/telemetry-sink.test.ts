import { MemoryTelemetryLog } from '@fleetwire/telemetry-log';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { TestClient, httpGet, mintToken, startTestEdge, type TestEdge } from './test-support.js';

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

describe('a sink that cannot take records', () => {
  it('in one process (the embedded store): /readyz 503 with the sink’s own reason', async () => {
    let stuckFor: string | undefined;
    const sink = {
      gatesReadiness: true,
      append: () => Promise.resolve(),
      flush: () => Promise.resolve(),
      get ready() {
        return stuckFor === undefined;
      },
      get notReadyBecause() {
        return stuckFor;
      },
    };
    const stuck = await startTestEdge({ telemetrySink: sink });
    try {
      expect((await httpGet(stuck.port, '/readyz')).status).toBe(200);
      stuckFor = 'writer stuck for 31 s (4 failed attempts)';
      const answer = await httpGet(stuck.port, '/readyz');
      expect([answer.status, JSON.parse(answer.body)]).toEqual([
        503,
        {
          status: 'not_ready',
          checks: { listening: true, accepting: true, capacity: true, telemetryLog: false },
          reasons: { telemetryLog: 'writer stuck for 31 s (4 failed attempts)' },
        },
      ]);
    } finally {
      stuck.close();
    }
  });
});

describe('a remote telemetry log (Kafka) that is down', () => {
  it('is a dependency, not a readiness check: /readyz stays 200, /health and the metric say down', async () => {
    let down = false;
    const sink = {
      append: () => Promise.resolve(),
      flush: () => Promise.resolve(),
      get ready() {
        return !down;
      },
      get notReadyBecause() {
        return down ? 'Kafka unreachable: no answer within 1500 ms' : undefined;
      },
    };
    const node = await startTestEdge({ telemetrySink: sink });
    try {
      const dependencyUp = async (): Promise<string | undefined> =>
        (await node.metricsText()).match(
          /^fleetwire_dependency_up\{[^}]*dependency="kafka"[^}]*\} (\d)$/m,
        )?.[1];
      expect(await dependencyUp()).toBe('1');
      down = true;
      expect((await httpGet(node.port, '/readyz')).status).toBe(200);
      expect(JSON.parse((await httpGet(node.port, '/health')).body)).toMatchObject({
        status: 'ready',
        dependencies: {
          kafka: { up: false, reason: 'Kafka unreachable: no answer within 1500 ms' },
        },
      });
      expect(await dependencyUp()).toBe('0');
    } finally {
      node.close();
    }
  });
});

import { createRegistry } from '@fleetwire/metrics';
import { decodeTelemetryRecord } from '@fleetwire/protocol';
import { KafkaTelemetryLog, TelemetryLogMetrics } from '@fleetwire/telemetry-log';
import { LocalKafka, waitFor } from '@fleetwire/testkit';
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import {
  TestClient,
  httpGet,
  mintToken,
  startTestEdge,
  valueOf,
  type TestEdge,
} from './test-support.js';

const TOPIC = 'telemetry';
let kafka: LocalKafka;
let log: KafkaTelemetryLog;
let edge: TestEdge;

beforeAll(async () => {
  // A private broker: this suite stops and restarts it.
  kafka = await LocalKafka.launch();
  const admin = new Kafka({ brokers: kafka.brokers, logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic: TOPIC, numPartitions: 3 }], waitForLeaders: true });
  await admin.disconnect();
  log = await KafkaTelemetryLog.connect({
    brokers: kafka.brokers,
    topic: TOPIC,
    lingerMs: 5,
    maxBuffered: 100,
    sendTimeoutMs: 2_000,
    metrics: new TelemetryLogMetrics(createRegistry({ service: 'edge', node: 'test' })),
  });
  edge = await startTestEdge({
    telemetrySink: log,
    limits: { ratePerSec: 10_000, rateBurst: 10_000 },
  });
}, 120_000);

afterAll(async () => {
  edge.close();
  await log.close().catch(() => undefined);
  await kafka.dispose();
});

/** The edge's view of Kafka: `fleetwire_dependency_up{dependency="kafka"}`. */
async function kafkaUp(): Promise<string | undefined> {
  return (await edge.metricsText()).match(
    /^fleetwire_dependency_up\{[^}]*dependency="kafka"[^}]*\} (\d)$/m,
  )?.[1];
}

/** Waits until the edge sees Kafka as `state` (what a device's backoff amounts to). */
function kafkaSeenAs(state: '0' | '1', deadlineMs: number): Promise<number> {
  return waitFor(
    `the edge to see Kafka as ${state}`,
    async () => (await kafkaUp()) === state,
    deadlineMs,
  );
}

/** Sends telemetry with these ids and collects one answer (ack or nack) for each. */
async function sendAll(device: TestClient, ids: string[]): Promise<Map<string, string>> {
  for (const id of ids) device.send({ type: 'telemetry', id, data: { id } });
  const answers = new Map<string, string>();
  while (answers.size < ids.length) {
    const m = await device.next();
    if (m.type === 'ack' || m.type === 'nack') {
      answers.set(String(m['id']), m.type === 'nack' ? `nack:${String(m['reason'])}` : 'ack');
    }
  }
  return answers;
}

describe('telemetry into Kafka', () => {
  it('acks only what Kafka took; nacks retry while it is down; nothing acked is missing after', async () => {
    const device = await TestClient.open(edge.url, mintToken({ sub: 'truck-1', role: 'device' }));
    const acked = new Set<string>();
    const record = (answers: Map<string, string>): void => {
      for (const [id, answer] of answers) if (answer === 'ack') acked.add(id);
    };

    const before = await sendAll(
      device,
      Array.from({ length: 50 }, (_, i) => `a${i}`),
    );
    expect([...before.values()].every((a) => a === 'ack')).toBe(true);
    record(before);

    await kafka.stop();
    const during = await sendAll(
      device,
      Array.from({ length: 30 }, (_, i) => `b${i}`),
    );
    record(during);
    const nacked = [...during].filter(([, a]) => a === 'nack:retry').map(([id]) => id);
    expect(nacked.length).toBeGreaterThan(0);
    expect([...during.values()].every((a) => a === 'ack' || a === 'nack:retry')).toBe(true);
    expect(await valueOf(edge.metrics.telemetryNacks, { reason: 'retry' })).toBe(nacked.length);

    await kafka.start();
    await kafkaSeenAs('1', 60_000);
    // What a device does with nack retry: send again until acked (bounded here).
    let missing = nacked;
    for (let attempt = 0; attempt < 20 && missing.length > 0; attempt++) {
      const answers = await sendAll(device, missing);
      record(answers);
      missing = missing.filter((id) => answers.get(id) !== 'ack');
    }
    expect(missing).toEqual([]);
    const after = await sendAll(
      device,
      Array.from({ length: 20 }, (_, i) => `c${i}`),
    );
    record(after);
    expect([...after.values()].every((a) => a === 'ack')).toBe(true);

    // Read the whole topic (up to its end offsets) and check every acked id is there.
    const client = new Kafka({ brokers: kafka.brokers, logLevel: logLevel.NOTHING });
    const admin = client.admin();
    await admin.connect();
    const total = (await admin.fetchTopicOffsets(TOPIC)).reduce(
      (sum, p) => sum + Number(p.high),
      0,
    );
    await admin.disconnect();
    const consumer = client.consumer({ groupId: 'check' });
    await consumer.connect();
    await consumer.subscribe({ topic: TOPIC, fromBeginning: true });
    const seen = new Set<string>();
    let read = 0;
    await new Promise<void>((resolve, reject) => {
      consumer
        .run({
          eachMessage: async ({ message }) => {
            const stored = decodeTelemetryRecord(message.value);
            expect(message.key?.toString()).toBe('acme/truck-1');
            expect(stored).toMatchObject({
              tenant: 'acme',
              deviceId: 'truck-1',
              topic: 'devices/truck-1/telemetry',
            });
            seen.add(stored.msgId);
            if (++read === total) resolve();
          },
        })
        .catch(reject);
    });
    await consumer.disconnect();
    expect([...acked].filter((id) => !seen.has(id))).toEqual([]);
    await device.close();
  }, 120_000);

  it('Kafka stopped: the edge notices within seconds and nacks retry at once, while it stays ready', async () => {
    const device = await TestClient.open(edge.url, mintToken({ sub: 'truck-2', role: 'device' }));
    await kafkaSeenAs('1', 60_000);
    expect(await sendAll(device, ['k-before'])).toEqual(new Map([['k-before', 'ack']]));

    await kafka.stop();
    // Wait for the probe to say so (a wait for state with a deadline, not a sleep).
    const noticed = await kafkaSeenAs('0', 3_000);
    console.log(`Kafka down noticed after ${Math.round(noticed)} ms`);
    expect((await httpGet(edge.port, '/readyz')).status).toBe(200);
    // While down, no device waits for the 2 s send timeout: the nack comes at once.
    const asked = performance.now();
    expect(await sendAll(device, ['k-down'])).toEqual(new Map([['k-down', 'nack:retry']]));
    expect(performance.now() - asked).toBeLessThan(1_000);

    await kafka.start();
    await kafkaSeenAs('1', 60_000);
    let answer = 'nack:retry';
    for (let attempt = 0; attempt < 20 && answer !== 'ack'; attempt++) {
      answer = (await sendAll(device, ['k-after'])).get('k-after') ?? '';
    }
    expect(answer).toBe('ack');
    await device.close();
  }, 120_000);
});

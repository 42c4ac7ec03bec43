import { TokenVerifier, loadVerificationKeys } from '@fleetwire/auth';
import { createRegistry } from '@fleetwire/metrics';
import { TelemetryStore, createPgClient, migrate, type SqlClient } from '@fleetwire/store';
import { testKafka, testPostgres, type TestKafka, type TestPostgres } from '@fleetwire/testkit';
import type { KafkaMessage } from 'kafkajs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

import { BatchWriter } from './batch-writer.js';
import { DLQ_HEADERS, DeadLetterQueue } from './dead-letter.js';
import { KafkaFixture, countRows, telemetry, waitFor } from './kafka-test-support.js';
import { IngestMetrics } from './metrics.js';
import { captureLogger, testConfig } from './test-support.js';
import { IngestWorker } from './worker.js';

let kafka: TestKafka;
let postgres: TestPostgres;
let fixture: KafkaFixture;
let db: SqlClient;
const workers: IngestWorker[] = [];

beforeAll(async () => {
  [kafka, postgres] = await Promise.all([testKafka(), testPostgres()]);
  fixture = await KafkaFixture.connect(kafka.brokers);
  db = createPgClient({ connectionString: postgres.url });
});
afterEach(async () => {
  await Promise.all(workers.splice(0).map((w) => w.stop()));
});
afterAll(async () => {
  await db?.close();
  await fixture?.close();
  await Promise.all([kafka?.close(), postgres?.close()]);
});

async function startWorker(topic: string, group: string, env: Record<string, string> = {}) {
  const config = testConfig({
    FLEETWIRE_DATABASE_URL: postgres.url,
    FLEETWIRE_KAFKA_BROKERS: kafka.brokers.join(','),
    FLEETWIRE_TELEMETRY_TOPIC: topic,
    FLEETWIRE_DLQ_TOPIC: kafka.topic('telemetry.dlq'),
    FLEETWIRE_CONSUMER_GROUP: group,
    FLEETWIRE_KAFKA_SESSION_TIMEOUT_MS: '6000',
    FLEETWIRE_FETCH_MIN_BYTES: '1',
    FLEETWIRE_BATCH_MAX_WAIT_MS: '100',
    FLEETWIRE_SHUTDOWN_TIMEOUT_MS: '20000',
    ...env,
  });
  const { logger, lines } = captureLogger();
  const worker = await IngestWorker.start({
    config,
    verifier: new TokenVerifier(loadVerificationKeys(config.auth), config.auth),
    registry: createRegistry({ service: 'ingest', node: group }),
    logger,
  });
  workers.push(worker);
  return { worker, lines };
}

async function stopWorker(worker: IngestWorker): Promise<void> {
  workers.splice(workers.indexOf(worker), 1);
  await worker.stop();
}

async function metricValue(worker: IngestWorker, name: string): Promise<number> {
  const metric = await worker.metrics.registry.getSingleMetric(name)?.get();
  return metric?.values.reduce((sum, v) => sum + v.value, 0) ?? 0;
}

/** Reads `count` records of a topic from the start, with a fresh group. */
async function readTopic(topic: string, count: number): Promise<KafkaMessage[]> {
  const consumer = fixture.kafka.consumer({ groupId: `${topic}-reader-${Date.now()}` });
  const messages: KafkaMessage[] = [];
  await consumer.connect();
  await consumer.subscribe({ topics: [topic], fromBeginning: true });
  await consumer.run({ eachMessage: async ({ message }) => void messages.push(message) });
  try {
    await waitFor(`${count} records on ${topic}`, () => messages.length >= count);
  } finally {
    await consumer.disconnect();
  }
  return messages;
}

describe('ingest worker against Kafka and PostgreSQL', () => {
  it('sends bad records to the DLQ with reason and source, stores the good ones, keeps going', async () => {
    const topic = await kafka.createTopic('telemetry.dlqcase', 1);
    const dlqTopic = await kafka.createTopic('telemetry.dlq', 1);
    const tenant = 'dlq-tenant';
    const good = (i: number) => telemetry(i, { tenant });
    await fixture.produce(topic, [good(0), good(1)]);
    const bad: [string, Buffer | string][] = [
      ['record_undecodable', '{"v":1, broken'],
      ['record_invalid', JSON.stringify({ ...good(2), v: 2 })],
      ['record_too_large', JSON.stringify({ ...good(3), data: { blob: 'x'.repeat(2000) } })],
      ['record_invalid', JSON.stringify({ ...good(4), data: { s: 'nul\u0000' } })],
      ['record_out_of_range', JSON.stringify({ ...good(5), ts: Date.now() + 7 * 86_400_000 })],
    ];
    const sources = await fixture.produceRaw(
      topic,
      bad.map(([, value]) => value),
    );
    await fixture.produce(topic, [good(6), good(7)]);

    const { worker } = await startWorker(topic, 'g-dlq', { FLEETWIRE_MAX_RECORD_BYTES: '1024' });
    const letters = await readTopic(dlqTopic, bad.length);
    await waitFor('4 good rows', async () => (await countRows(db, tenant)) === 4);

    const header = (m: KafkaMessage, name: string) => m.headers?.[name]?.toString();
    expect(
      letters.map((m) => ({
        reason: header(m, DLQ_HEADERS.reason),
        topic: header(m, DLQ_HEADERS.topic),
        partition: header(m, DLQ_HEADERS.partition),
        offset: header(m, DLQ_HEADERS.offset),
        value: m.value?.toString(),
      })),
    ).toEqual(
      bad.map(([reason, value], i) => ({
        reason,
        topic,
        partition: String(sources[i]!.partition),
        offset: sources[i]!.offset,
        value: value.toString(),
      })),
    );
    expect(header(letters[2]!, DLQ_HEADERS.message)).toMatch(/bytes, limit 1024$/);

    // Still consuming after the bad ones.
    await fixture.produce(topic, [good(8)]);
    await waitFor('5 good rows', async () => (await countRows(db, tenant)) === 5);
    expect(await metricValue(worker, 'fleetwire_ingest_dlq_records_total')).toBe(5);
  });

  it('isolates a row PostgreSQL refuses inside a batch: DLQ for it, the rest stored', async () => {
    const dlqTopic = await kafka.createTopic('telemetry.refused', 1);
    await migrate(db);
    const { logger } = captureLogger();
    const metrics = new IngestMetrics(createRegistry({ service: 'ingest', node: 'iso' }));
    const dlq = new DeadLetterQueue(fixture.producer, dlqTopic, metrics);
    const writer = new BatchWriter({ store: new TelemetryStore(db), dlq, metrics, logger });
    const tenant = 'refused-tenant';
    const source = (offset: number) => ({
      topic: 'src',
      partition: 0,
      offset: String(offset),
      key: null,
      value: Buffer.from(`value-${offset}`),
    });
    // checkRecord keeps NUL out; here the writer meets one anyway, as it would any other refusal.
    await writer.write([
      { row: telemetry(1, { tenant }), source: source(1) },
      { row: telemetry(2, { tenant, data: { s: '\u0000' } }), source: source(2) },
      { row: telemetry(3, { tenant }), source: source(3) },
    ]);
    expect(await countRows(db, tenant)).toBe(2);
    const [letter] = await readTopic(dlqTopic, 1);
    expect(letter!.headers?.[DLQ_HEADERS.reason]?.toString()).toBe('record_rejected_by_store');
    expect(letter!.headers?.[DLQ_HEADERS.offset]?.toString()).toBe('2');
    expect(letter!.value?.toString()).toBe('value-2');
  });

  it('two workers in one group split the partitions and survive rebalances: exactly N rows', async () => {
    const topic = await kafka.createTopic('telemetry.group', 4);
    const group = 'g-pair';
    const { worker: a } = await startWorker(topic, group);
    await waitFor('a holds all 4 partitions', () => a.assignment.size === 4);
    await fixture.produceRange(topic, 0, 3000);

    const { worker: b } = await startWorker(topic, group);
    await waitFor(
      'a and b hold 2 partitions each',
      () =>
        a.assignment.size === 2 &&
        b.assignment.size === 2 &&
        [...a.assignment].every((p) => !b.assignment.has(p)),
    );
    await fixture.produceRange(topic, 3000, 6000);
    await waitFor(
      'both wrote rows',
      async () => (await metricValue(b, 'fleetwire_ingest_rows_written_total')) > 0,
    );

    // a leaves: b takes over its partitions at once (no session timeout to wait for).
    await stopWorker(a);
    await waitFor('b holds all 4 partitions', () => b.assignment.size === 4);
    await fixture.produceRange(topic, 6000, 9000);

    await waitFor('group caught up', () => fixture.caughtUp(group, topic));
    expect(await countRows(db, 'acme')).toBe(9000);
    expect(await metricValue(b, 'fleetwire_ingest_rebalances_total')).toBeGreaterThanOrEqual(2);
  });

  it('a replay from the earliest offset inserts nothing: every row counted as a duplicate', async () => {
    const topic = await kafka.createTopic('telemetry.replay', 2);
    const group = 'g-replay';
    const tenant = 'replay-tenant';
    const records = Array.from({ length: 1500 }, (_, i) => telemetry(i, { tenant }));
    await fixture.produce(topic, records);
    const { worker: first } = await startWorker(topic, group);
    await waitFor('first pass caught up', () => fixture.caughtUp(group, topic));
    expect(await countRows(db, tenant)).toBe(1500);
    // Graceful stop committed everything it wrote and left the group.
    await stopWorker(first);
    expect(await fixture.caughtUp(group, topic)).toBe(true);

    await fixture.admin.resetOffsets({ groupId: group, topic, earliest: true });
    const { worker: second } = await startWorker(topic, group);
    await waitFor('replay caught up', () => fixture.caughtUp(group, topic));
    expect(await countRows(db, tenant)).toBe(1500);
    expect(await metricValue(second, 'fleetwire_ingest_rows_duplicate_total')).toBe(1500);
    expect(await metricValue(second, 'fleetwire_ingest_rows_written_total')).toBe(0);
  });
});

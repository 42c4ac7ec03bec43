import { TokenVerifier, loadVerificationKeys } from '@fleetwire/auth';
import { createRegistry } from '@fleetwire/metrics';
import { encodeTelemetryRecord, telemetryRecordKey } from '@fleetwire/protocol';
import { createPgClient, type SqlClient } from '@fleetwire/store';
import { testKafka, testPostgres, type TestKafka, type TestPostgres } from '@fleetwire/testkit';
import { CompressionTypes, type KafkaMessage } from 'kafkajs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

import { KafkaFixture, countRows, telemetry, waitFor } from './kafka-test-support.js';
import { DLQ_HEADERS } from './kafka-dead-letter-sink.js';
import { captureLogger, testConfig } from './test-support.js';
import { IngestWorker } from './worker.js';

let kafka: TestKafka;
let postgres: TestPostgres;
let fixture: KafkaFixture;
/** A LATIN1 database: PostgreSQL refuses every row with an emoji in it (22P05). */
let latin1: { url: string; db: SqlClient; drop(): Promise<void> };
const workers: IngestWorker[] = [];

beforeAll(async () => {
  [kafka, postgres] = await Promise.all([testKafka(), testPostgres()]);
  fixture = await KafkaFixture.connect(kafka.brokers);
  const name = `${postgres.database}_latin1`;
  const admin = createPgClient({ connectionString: postgres.url, max: 1 });
  await admin.exec(
    `create database ${name} encoding 'LATIN1' lc_collate 'C' lc_ctype 'C' template template0`,
  );
  const url = new URL(postgres.url);
  url.pathname = `/${name}`;
  const db = createPgClient({ connectionString: url.toString() });
  latin1 = {
    url: url.toString(),
    db,
    async drop() {
      await db.close();
      await admin.exec(`drop database if exists ${name} with (force)`);
      await admin.close();
    },
  };
});
afterEach(async () => {
  await Promise.all(workers.splice(0).map((w) => w.stop()));
});
afterAll(async () => {
  await latin1?.drop();
  await fixture?.close();
  await Promise.all([kafka?.close(), postgres?.close()]);
});

async function startWorker(topic: string, dlqTopic: string, group: string) {
  const config = testConfig({
    FLEETWIRE_DATABASE_URL: latin1.url,
    FLEETWIRE_KAFKA_BROKERS: kafka.brokers.join(','),
    FLEETWIRE_TELEMETRY_TOPIC: topic,
    FLEETWIRE_DLQ_TOPIC: dlqTopic,
    FLEETWIRE_CONSUMER_GROUP: group,
    FLEETWIRE_KAFKA_SESSION_TIMEOUT_MS: '6000',
    FLEETWIRE_FETCH_MIN_BYTES: '1',
    FLEETWIRE_BATCH_MAX_WAIT_MS: '100',
    FLEETWIRE_WRITE_STUCK_AFTER_MS: '60000',
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

/** Values of a metric family's series (`_sum`, `_count` too), summed by series name. */
async function metric(worker: IngestWorker, name: string): Promise<Record<string, number>> {
  const values = (await worker.metrics.registry.getSingleMetric(name)?.get())?.values ?? [];
  const out: Record<string, number> = {};
  for (const v of values) {
    const series = (v as { metricName?: string }).metricName ?? name;
    out[series] = (out[series] ?? 0) + v.value;
  }
  return out;
}

async function readTopic(topic: string, count: number): Promise<KafkaMessage[]> {
  const consumer = fixture.kafka.consumer({ groupId: `${topic}-reader-${Date.now()}` });
  const messages: KafkaMessage[] = [];
  await consumer.connect();
  await consumer.subscribe({ topics: [topic], fromBeginning: true });
  await consumer.run({ eachMessage: async ({ message }) => void messages.push(message) });
  try {
    await waitFor(`${count} records on ${topic}`, () => messages.length >= count, 45_000);
    // Nothing more than that was written: the topic ends at exactly `count` records.
    const ends = await fixture.admin.fetchTopicOffsets(topic);
    expect(ends.reduce((sum, p) => sum + Number(p.high) - Number(p.low), 0)).toBe(count);
  } finally {
    await consumer.disconnect();
  }
  return messages;
}

const header = (m: KafkaMessage, name: string) => m.headers?.[name]?.toString();

describe('dead letters too big for one Kafka request', () => {
  it('150 rows of ~11 KiB the store refuses in one batch: all dead-lettered, the offset committed, nothing stuck', async () => {
    const topic = await kafka.createTopic('telemetry.bigdlq', 1);
    const dlqTopic = await kafka.createTopic('telemetry.bigdlq.dlq', 1);
    const tenant = 'big-dlq';
    // Few rows, each big: the store refuses every one, so the writer splits the batch down to
    // single rows (~2 statements a row: 1,500 rows of 1 KiB missed the 45 s bound at load 14
    // here; 150 took 11 s), while the letters still add up to more than one Kafka request takes.
    const records = Array.from({ length: 150 }, (_, i) =>
      telemetry(i, { tenant, data: { seq: i, note: `launch 🚀 ${'x'.repeat(11_000)}` } }),
    );
    // One compressed record batch: the worker fetches all 150 at once and writes them together.
    await fixture.producer.send({
      topic,
      acks: -1,
      compression: CompressionTypes.GZIP,
      messages: records.map((r) => ({
        key: telemetryRecordKey(r),
        value: encodeTelemetryRecord(r),
      })),
    });
    const group = 'g-bigdlq';
    const { worker } = await startWorker(topic, dlqTopic, group);
    await waitFor(
      'the offset committed past all 150',
      () => fixture.caughtUp(group, topic),
      45_000,
    );

    const letters = await readTopic(dlqTopic, 150);
    expect(letters).toHaveLength(150);
    expect(new Set(letters.map((m) => header(m, DLQ_HEADERS.offset)))).toEqual(
      new Set(records.map((_, i) => String(i))),
    );
    expect(letters.every((m) => header(m, DLQ_HEADERS.reason) === 'record_rejected_by_store')).toBe(
      true,
    );
    // Their values are the records, whole: well over Kafka's 1 MiB in all.
    const bytes = letters.reduce((sum, m) => sum + (m.value?.length ?? 0), 0);
    expect(bytes).toBeGreaterThan(1.5 * 1024 * 1024);
    expect(letters.every((m) => m.value !== null)).toBe(true);

    expect(await countRows(latin1.db, tenant)).toBe(0);
    // One write of all 150 rows.
    expect(await metric(worker, 'fleetwire_ingest_batch_rows')).toMatchObject({
      fleetwire_ingest_batch_rows_count: 1,
      fleetwire_ingest_batch_rows_sum: 150,
    });
    expect(await metric(worker, 'fleetwire_ingest_dlq_records_total')).toEqual({
      fleetwire_ingest_dlq_records_total: 150,
    });
    expect(await metric(worker, 'fleetwire_ingest_writer_stuck')).toEqual({
      fleetwire_ingest_writer_stuck: 0,
    });
    const ready = await fetch(`http://127.0.0.1:${worker.port}/readyz`);
    expect(ready.status).toBe(200);
  }, 120_000);

  it('a letter bigger than the dead-letter topic takes goes without its value, its source in the headers; the rest go on', async () => {
    const topic = await kafka.createTopic('telemetry.hugedlq', 1);
    const dlqTopic = kafka.topic('telemetry.hugedlq.dlq');
    await fixture.admin.createTopics({
      topics: [
        {
          topic: dlqTopic,
          numPartitions: 1,
          replicationFactor: 1,
          configEntries: [{ name: 'max.message.bytes', value: '8192' }],
        },
      ],
      waitForLeaders: true,
    });
    const tenant = 'huge-dlq';
    await fixture.produce(topic, [telemetry(0, { tenant })]);
    // Undecodable, 20 KB: within the ingest's record limit, over the dead-letter topic's.
    const [huge] = await fixture.produceRaw(topic, [`{"v":1, broken ${'y'.repeat(20_000)}`]);
    const [small] = await fixture.produceRaw(topic, ['{"v":1, broken too']);
    await fixture.produce(topic, [telemetry(1, { tenant })]);

    const group = 'g-hugedlq';
    const { worker, lines } = await startWorker(topic, dlqTopic, group);
    await waitFor('the offset committed past all 4', () => fixture.caughtUp(group, topic), 45_000);
    const letters = await readTopic(dlqTopic, 2);
    expect(
      letters.map((m) => ({
        offset: header(m, DLQ_HEADERS.offset),
        topic: header(m, DLQ_HEADERS.topic),
        partition: header(m, DLQ_HEADERS.partition),
        reason: header(m, DLQ_HEADERS.reason),
        dropped: header(m, DLQ_HEADERS.valueDropped),
        value: m.value?.length ?? null,
      })),
    ).toEqual([
      {
        offset: huge!.offset,
        topic,
        partition: '0',
        reason: 'record_undecodable',
        dropped: expect.stringMatching(/^MESSAGE_TOO_LARGE \(20015 bytes\)$/),
        value: null,
      },
      {
        offset: small!.offset,
        topic,
        partition: '0',
        reason: 'record_undecodable',
        dropped: undefined,
        value: '{"v":1, broken too'.length,
      },
    ]);
    expect(await countRows(latin1.db, tenant)).toBe(2);
    expect(await metric(worker, 'fleetwire_ingest_dlq_without_value_total')).toEqual({
      fleetwire_ingest_dlq_without_value_total: 1,
    });
    expect(lines.filter((l) => l['msg'] === 'consumer crashed')).toEqual([]);
    expect((await fetch(`http://127.0.0.1:${worker.port}/readyz`)).status).toBe(200);
  }, 120_000);
});

import { TokenVerifier, loadVerificationKeys } from '@fleetwire/auth';
import { createRegistry } from '@fleetwire/metrics';
import { TelemetryStore, createPgClient, migrate, type SqlClient } from '@fleetwire/store';
import {
  TcpProxy,
  testKafka,
  testPostgres,
  type TestKafka,
  type TestPostgres,
} from '@fleetwire/testkit';
import type { KafkaMessage } from 'kafkajs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

import { BatchWriter } from './batch-writer.js';
import { DLQ_HEADERS, KafkaDeadLetterSink } from './kafka-dead-letter-sink.js';
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

interface ReadyBody {
  status: string;
  checks: Record<string, boolean>;
  reason?: string;
}

async function readyz(worker: IngestWorker): Promise<{ status: number; body: ReadyBody }> {
  const res = await fetch(`http://127.0.0.1:${worker.port}/readyz`);
  return { status: res.status, body: (await res.json()) as ReadyBody };
}

/** The committed offset of partition 0 of `topic` for `group` ('-1': none). */
async function committed(group: string, topic: string): Promise<string> {
  const [offsets] = await fixture.admin.fetchOffsets({ groupId: group, topics: [topic] });
  return offsets!.partitions.find((p) => p.partition === 0)!.offset;
}

/**
 * Holds an ACCESS EXCLUSIVE lock on the telemetry table from another session, as a long
 * migration or a stuck transaction would: every insert waits for it.
 */
async function lockTelemetry(url: string): Promise<{ release(): Promise<void> }> {
  const holder = createPgClient({ connectionString: url, max: 1 });
  let release!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  let locked!: () => void;
  const isLocked = new Promise<void>((resolve) => (locked = resolve));
  const session = holder.transaction(async (tx) => {
    await tx.exec('lock table telemetry in access exclusive mode');
    locked();
    await released;
    throw new Error('roll back');
  });
  await Promise.race([isLocked, session]);
  return {
    async release() {
      release();
      await session.catch(() => undefined);
      await holder.close();
    },
  };
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
    const dlq = new KafkaDeadLetterSink(fixture.producer, dlqTopic);
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

describe('poison records and stuck writes', () => {
  it('one row PostgreSQL refuses among 1,000 (a LATIN1 database, an emoji): 999 stored, 1 dead-lettered, offset committed', async () => {
    // A record the ingest's own check accepts (emoji are fine text) but this database cannot
    // represent: 22P05 "has no equivalent in encoding LATIN1".
    const latin1 = `${postgres.database}_latin1`;
    const admin = createPgClient({ connectionString: postgres.url, max: 1 });
    await admin.exec(
      `create database ${latin1} encoding 'LATIN1' lc_collate 'C' lc_ctype 'C' template template0`,
    );
    const url = new URL(postgres.url);
    url.pathname = `/${latin1}`;
    const latin1Db = createPgClient({ connectionString: url.toString() });
    try {
      const topic = await kafka.createTopic('telemetry.poison', 1);
      const dlqTopic = await kafka.createTopic('telemetry.poison.dlq', 1);
      const tenant = 'poison-tenant';
      const records = Array.from({ length: 1000 }, (_, i) =>
        telemetry(i, { tenant, ...(i === 437 ? { data: { note: 'launch 🚀', seq: i } } : {}) }),
      );
      await fixture.produce(topic, records);
      const group = 'g-poison';
      const { worker, lines } = await startWorker(topic, group, {
        FLEETWIRE_DATABASE_URL: url.toString(),
        FLEETWIRE_DLQ_TOPIC: dlqTopic,
      });
      await waitFor('the offset committed past all 1,000', () => fixture.caughtUp(group, topic));
      expect(await committed(group, topic)).toBe('1000');
      expect(await countRows(latin1Db, tenant)).toBe(999);
      const [letter, ...more] = await readTopic(dlqTopic, 1);
      expect(more).toEqual([]);
      const header = (name: string) => letter!.headers?.[name]?.toString();
      expect(header(DLQ_HEADERS.reason)).toBe('record_rejected_by_store');
      expect(header(DLQ_HEADERS.offset)).toBe('437');
      expect(header(DLQ_HEADERS.message)).toMatch(
        /has no equivalent in encoding "LATIN1" \(SQLSTATE 22P05\)$/,
      );
      expect(JSON.parse(letter!.value!.toString())).toMatchObject({ msgId: 'msg-437' });
      expect(await metricValue(worker, 'fleetwire_ingest_batches_split_total')).toBeGreaterThan(0);
      expect(await metricValue(worker, 'fleetwire_ingest_write_errors_total')).toBe(0);
      expect(
        lines.some(
          (l) =>
            l['msg'] === 'rows refused by the store set aside as dead letters; the rest stored',
        ),
      ).toBe(true);
      expect((await readyz(worker)).status).toBe(200);
    } finally {
      await Promise.all(workers.splice(0).map((w) => w.stop()));
      await latin1Db.close();
      await admin.exec(`drop database if exists ${latin1} with (force)`);
      await admin.close();
    }
  });

  it('an outage (PostgreSQL unreachable) is retried: no dead letters, every row stored once it is back', async () => {
    const proxy = await TcpProxy.start(
      new URL(postgres.url).hostname,
      Number(new URL(postgres.url).port),
    );
    try {
      const topic = await kafka.createTopic('telemetry.outage', 1);
      const group = 'g-outage';
      const tenant = 'outage-tenant';
      const { worker, lines } = await startWorker(topic, group, {
        FLEETWIRE_DATABASE_URL: proxy.rewrite(postgres.url),
      });
      await waitFor('the worker holds the partition', () => worker.assignment.size === 1);
      proxy.down();
      await fixture.produce(
        topic,
        Array.from({ length: 300 }, (_, i) => telemetry(i, { tenant })),
      );
      await waitFor(
        'three failed writes',
        async () => (await metricValue(worker, 'fleetwire_ingest_write_errors_total')) >= 3,
      );
      expect((await readyz(worker)).body.checks.store).toBe(false);
      expect(await committed(group, topic)).toBe('-1');
      proxy.up();
      await waitFor('caught up after the outage', () => fixture.caughtUp(group, topic));
      expect(await countRows(db, tenant)).toBe(300);
      expect(await metricValue(worker, 'fleetwire_ingest_dlq_records_total')).toBe(0);
      expect(await metricValue(worker, 'fleetwire_ingest_batches_split_total')).toBe(0);
      // Logged when it began and when it ended, not once per attempt.
      const failing = lines.filter((l) => String(l['msg']).startsWith('batch write'));
      expect(failing[0]).toMatchObject({ msg: 'batch write failed; retrying', kind: 'outage' });
      expect(failing.at(-1)).toMatchObject({ msg: 'batch write succeeded again' });
      expect(failing.length).toBeLessThan(
        await metricValue(worker, 'fleetwire_ingest_write_errors_total'),
      );
    } finally {
      await Promise.all(workers.splice(0).map((w) => w.stop()));
      await proxy.close();
    }
  });

  it('a statement held up past statement_timeout is retried, not dead-lettered; the stuck writer turns /readyz 503 with a reason', async () => {
    const topic = await kafka.createTopic('telemetry.stuck', 1);
    const group = 'g-stuck';
    const tenant = 'stuck-tenant';
    const { worker, lines } = await startWorker(topic, group, {
      FLEETWIRE_DB_STATEMENT_TIMEOUT_MS: '300',
      FLEETWIRE_WRITE_STUCK_AFTER_MS: '1500',
    });
    await waitFor('the worker holds the partition', () => worker.assignment.size === 1);
    expect((await readyz(worker)).body.checks.writer).toBe(true);
    const lock = await lockTelemetry(postgres.url);
    try {
      await fixture.produce(
        topic,
        Array.from({ length: 50 }, (_, i) => telemetry(i, { tenant })),
      );
      await waitFor('the writer reported stuck', async () => (await readyz(worker)).status === 503);
      const { body } = await readyz(worker);
      expect(body.checks).toMatchObject({ writer: false, store: true, consumer: true });
      expect(body.reason).toMatch(/^writer stuck for \d+ s \(\d+ failed attempts\)$/);
      expect(await metricValue(worker, 'fleetwire_ingest_writer_stuck')).toBe(1);
      expect(await metricValue(worker, 'fleetwire_ingest_write_pending_seconds')).toBeGreaterThan(
        1.5,
      );
      // 57014 each time; the write probe is held up too, so it is waited out, not split.
      expect(
        await metricValue(worker, 'fleetwire_ingest_write_errors_total'),
      ).toBeGreaterThanOrEqual(2);
      expect(await metricValue(worker, 'fleetwire_ingest_batches_split_total')).toBe(0);
      expect(lines.filter((l) => l['msg'] === 'batch write failed; retrying')).toHaveLength(1);
      expect(lines.find((l) => l['msg'] === 'batch write failed; retrying')).toMatchObject({
        sqlState: '57014',
      });
    } finally {
      await lock.release();
    }
    await waitFor('caught up once the lock is gone', () => fixture.caughtUp(group, topic));
    expect(await countRows(db, tenant)).toBe(50);
    expect(await metricValue(worker, 'fleetwire_ingest_dlq_records_total')).toBe(0);
    expect((await readyz(worker)).status).toBe(200);
    expect(await metricValue(worker, 'fleetwire_ingest_writer_stuck')).toBe(0);
  });

  it('stop with a write that never returns ends within its deadline, commits nothing; a restart stores it all', async () => {
    const topic = await kafka.createTopic('telemetry.hung', 1);
    const group = 'g-hung';
    const tenant = 'hung-tenant';
    const env = { FLEETWIRE_DB_STATEMENT_TIMEOUT_MS: '0', FLEETWIRE_SHUTDOWN_TIMEOUT_MS: '1500' };
    const { worker } = await startWorker(topic, group, env);
    await waitFor('the worker holds the partition', () => worker.assignment.size === 1);
    const lock = await lockTelemetry(postgres.url);
    let released = false;
    try {
      await fixture.produce(
        topic,
        Array.from({ length: 40 }, (_, i) => telemetry(i, { tenant })),
      );
      await waitFor('the insert waits on the lock', async () => {
        const { rows } = await db.query<{ n: number }>(
          `select count(*)::int as n from pg_stat_activity
            where wait_event_type = 'Lock' and query like '%insert into telemetry%'`,
        );
        return rows[0]!.n > 0;
      });
      const started = performance.now();
      await stopWorker(worker);
      const took = performance.now() - started;
      // Deadline 1.5 s, then at most 1.5 s for the consumer and 1.5 s for the connections.
      expect(took).toBeLessThan(1500 + 2 * 1500 + 1000);
      expect(await committed(group, topic)).toBe('-1');
      await lock.release();
      released = true;
    } finally {
      if (!released) await lock.release();
    }
    const { worker: again } = await startWorker(topic, group, env);
    await waitFor('the restarted worker caught up', () => fixture.caughtUp(group, topic));
    expect(await countRows(db, tenant)).toBe(40);
    expect(await metricValue(again, 'fleetwire_ingest_dlq_records_total')).toBe(0);
  });
});

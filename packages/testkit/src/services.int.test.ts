import { Redis } from 'ioredis';
import { Kafka, logLevel } from 'kafkajs';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { createTestEnv, type TestEnv } from './test-env.js';

let env: TestEnv;

beforeAll(async () => {
  env = await createTestEnv();
});

afterAll(async () => {
  await env.close();
});

describe('the shared services are real', () => {
  it('Redis answers INFO server with its version and keeps keys under the suite prefix', async () => {
    const redis = new Redis(env.redis.url);
    try {
      const info = await redis.info('server');
      expect(info).toMatch(/^redis_version:\d+\.\d+\.\d+\r?$/m);
      await redis.set(`${env.redis.keyPrefix}greeting`, 'hello');
      expect(await redis.get(`${env.redis.keyPrefix}greeting`)).toBe('hello');
    } finally {
      redis.disconnect();
    }
  });

  it('Kafka round-trips records through a topic with 3 partitions', async () => {
    const topic = await env.kafka.createTopic('roundtrip', 3);
    const kafka = new Kafka({ brokers: env.kafka.brokers, logLevel: logLevel.NOTHING });
    const admin = kafka.admin();
    await admin.connect();
    const [metadata] = (await admin.fetchTopicMetadata({ topics: [topic] })).topics;
    await admin.disconnect();
    expect(metadata?.partitions).toHaveLength(3);

    const producer = kafka.producer();
    await producer.connect();
    const sent = [0, 1, 2].flatMap((partition) =>
      [0, 1].map((n) => ({ partition, key: `device-${partition}`, value: `p${partition}-m${n}` })),
    );
    await producer.send({ topic, acks: -1, messages: sent });
    await producer.disconnect();

    const consumer = kafka.consumer({ groupId: `${env.kafka.topicPrefix}group` });
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    const received: { partition: number; value: string }[] = [];
    await new Promise<void>((resolve, reject) => {
      consumer
        .run({
          eachMessage: async ({ partition, message }) => {
            received.push({ partition, value: message.value?.toString() ?? '' });
            if (received.length === sent.length) resolve();
          },
        })
        .catch(reject);
    });
    await consumer.disconnect();

    expect(received.sort((a, b) => a.value.localeCompare(b.value))).toEqual(
      sent.map(({ partition, value }) => ({ partition, value })),
    );
  });

  it('PostgreSQL gives the suite a fresh database that round-trips a table', async () => {
    const client = new pg.Client({ connectionString: env.postgres.url });
    await client.connect();
    try {
      const { rows: version } = await client.query<{ version: string }>('select version()');
      expect(version[0]?.version).toMatch(/^PostgreSQL \d+/);
      const { rows: db } = await client.query<{ db: string }>('select current_database() as db');
      expect(db[0]?.db).toBe(env.postgres.database);
      const { rows: tables } = await client.query(
        "select 1 from information_schema.tables where table_schema = 'public'",
      );
      expect(tables).toHaveLength(0);

      await client.query('create table reading (device text primary key, value double precision)');
      await client.query('insert into reading values ($1, $2), ($3, $4)', ['a', 1.5, 'b', -2]);
      const { rows } = await client.query('select device, value from reading order by device');
      expect(rows).toEqual([
        { device: 'a', value: 1.5 },
        { device: 'b', value: -2 },
      ]);
    } finally {
      await client.end();
    }
  });
});

describe('suites are isolated from each other', () => {
  it('a second environment gets its own prefixes and database, and closing it removes them', async () => {
    const other = await createTestEnv();
    expect(other.redis.keyPrefix).not.toBe(env.redis.keyPrefix);
    expect(other.kafka.topicPrefix).not.toBe(env.kafka.topicPrefix);
    expect(other.postgres.database).not.toBe(env.postgres.database);

    const topic = await other.kafka.createTopic('leftover', 1);
    const redis = new Redis(other.redis.url);
    await redis.set(`${other.redis.keyPrefix}leftover`, '1');
    await other.close();

    const admin = new Kafka({ brokers: env.kafka.brokers, logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
    const topics = await admin.listTopics();
    await admin.disconnect();
    expect(topics).not.toContain(topic);
    expect(await redis.exists(`${other.redis.keyPrefix}leftover`)).toBe(0);
    redis.disconnect();

    const client = new pg.Client({ connectionString: env.postgres.url });
    await client.connect();
    const { rows } = await client.query('select 1 from pg_database where datname = $1', [
      other.postgres.database,
    ]);
    await client.end();
    expect(rows).toHaveLength(0);
  });
});

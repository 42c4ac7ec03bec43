import { randomBytes } from 'node:crypto';

import { Cluster, Redis } from 'ioredis';
import { Kafka, logLevel } from 'kafkajs';
import pg from 'pg';
import { inject } from 'vitest';

import type { ServiceEndpoints } from './endpoints.js';
import { TestkitError } from './errors.js';

/** The run's shared services, as the integration project's globalSetup provided them. */
export function serviceEndpoints(): ServiceEndpoints {
  const endpoints = inject('fleetwireServices');
  if (!endpoints) {
    throw new TestkitError(
      'TESTKIT_NOT_IN_VITEST',
      'no test services: integration suites must be named *.int.test.ts so the integration ' +
        'project (globalSetup @fleetwire/testkit/global-setup) runs them',
    );
  }
  return endpoints;
}

function uniqueId(): string {
  return randomBytes(5).toString('hex');
}

export interface TestRedis {
  url: string;
  /** Every key and channel of this suite starts with it; close() deletes the keys. */
  keyPrefix: string;
  close(): Promise<void>;
}

export interface TestKafka {
  brokers: string[];
  /** Every topic of this suite starts with it; close() deletes the topics. */
  topicPrefix: string;
  /** The suite's name for a topic: `${topicPrefix}${name}`. */
  topic(name: string): string;
  /** Creates the suite's topic and waits for its partitions to have leaders. */
  createTopic(name: string, partitions?: number): Promise<string>;
  close(): Promise<void>;
}

export interface TestPostgres {
  /** URL of a fresh, empty database owned by this suite; close() drops it. */
  url: string;
  database: string;
  close(): Promise<void>;
}

export interface TestEnv {
  redis: TestRedis;
  kafka: TestKafka;
  postgres: TestPostgres;
  close(): Promise<void>;
}

export async function testRedis(): Promise<TestRedis> {
  const { redisUrl } = serviceEndpoints();
  const keyPrefix = `t${uniqueId()}:`;
  return {
    url: redisUrl,
    keyPrefix,
    async close() {
      const client = new Redis(redisUrl, { lazyConnect: true });
      try {
        await client.connect();
        let cursor = '0';
        do {
          const [next, keys] = await client.scan(cursor, 'MATCH', `${keyPrefix}*`, 'COUNT', 500);
          if (keys.length > 0) await client.del(...keys);
          cursor = next;
        } while (cursor !== '0');
      } finally {
        client.disconnect();
      }
    },
  };
}

export interface TestRedisCluster {
  /** `host:port` of every master: the startup nodes of an ioredis `Cluster`. */
  nodes: string[];
  /** Every key and channel of this suite starts with it; close() deletes the keys. */
  keyPrefix: string;
  close(): Promise<void>;
}

/** The run's shared Redis Cluster (three masters), with a key prefix of the suite's own. */
export async function testRedisCluster(): Promise<TestRedisCluster> {
  const { redisClusterNodes } = serviceEndpoints();
  const keyPrefix = `t${uniqueId()}:`;
  return {
    nodes: redisClusterNodes,
    keyPrefix,
    async close() {
      const cluster = new Cluster(
        redisClusterNodes.map((address) => {
          const [host, port] = address.split(':') as [string, string];
          return { host, port: Number(port) };
        }),
        { lazyConnect: true },
      );
      try {
        await cluster.connect();
        // SCAN walks one node: every master holds part of the suite's keys.
        for (const node of cluster.nodes('master')) {
          let cursor = '0';
          do {
            const [next, keys] = await node.scan(cursor, 'MATCH', `${keyPrefix}*`, 'COUNT', 500);
            // One DEL per key: the keys of one batch live in different slots.
            await Promise.all(keys.map((key) => cluster.del(key)));
            cursor = next;
          } while (cursor !== '0');
        }
      } finally {
        cluster.disconnect();
      }
    },
  };
}

export async function testKafka(): Promise<TestKafka> {
  const { kafkaBrokers } = serviceEndpoints();
  const topicPrefix = `t${uniqueId()}.`;
  const admin = new Kafka({
    clientId: 'fleetwire-testkit',
    brokers: kafkaBrokers,
    logLevel: logLevel.NOTHING,
  }).admin();
  await admin.connect();
  const topic = (name: string): string => `${topicPrefix}${name}`;
  return {
    brokers: kafkaBrokers,
    topicPrefix,
    topic,
    async createTopic(name, partitions = 3) {
      const full = topic(name);
      await admin.createTopics({
        topics: [{ topic: full, numPartitions: partitions, replicationFactor: 1 }],
        waitForLeaders: true,
      });
      return full;
    },
    async close() {
      try {
        const existing = await admin.listTopics();
        const ours = existing.filter((t) => t.startsWith(topicPrefix));
        if (ours.length > 0) await admin.deleteTopics({ topics: ours });
      } finally {
        await admin.disconnect();
      }
    },
  };
}

export async function testPostgres(): Promise<TestPostgres> {
  const { databaseUrl } = serviceEndpoints();
  const database = `fw_t${uniqueId()}`;
  const admin = new pg.Client({ connectionString: databaseUrl });
  await admin.connect();
  try {
    await admin.query(`create database ${database}`);
  } finally {
    await admin.end();
  }
  const url = new URL(databaseUrl);
  url.pathname = `/${database}`;
  return {
    url: url.toString(),
    database,
    async close() {
      const client = new pg.Client({ connectionString: databaseUrl });
      await client.connect();
      try {
        await client.query(`drop database if exists ${database} with (force)`);
      } finally {
        await client.end();
      }
    },
  };
}

/** One call per suite: Redis, Kafka and PostgreSQL, each isolated from every other suite. */
export async function createTestEnv(): Promise<TestEnv> {
  const [redis, kafka, postgres] = await Promise.all([testRedis(), testKafka(), testPostgres()]);
  return {
    redis,
    kafka,
    postgres,
    async close() {
      await Promise.all([redis.close(), kafka.close(), postgres.close()]);
    },
  };
}

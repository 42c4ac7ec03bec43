import { RedisBus, RedisPresence } from '@fleetwire/bus';
import { SqlDeviceStateStore, createPgClient, migrate, type SqlClient } from '@fleetwire/store';
import { testPostgres, testRedis } from '@fleetwire/testkit';
import { afterAll, afterEach, beforeAll, describe } from 'vitest';

import { stateScenarios } from './state-scenarios.js';
import { startTestEdge, type TestEdge, TestClientPool } from './test-support.js';

const clients = new TestClientPool();
const { connect } = clients;
const closers: (() => Promise<void> | void)[] = [];
let a: TestEdge;
let b: TestEdge;

describe('device state on two edge nodes over Redis and PostgreSQL', () => {
  beforeAll(async () => {
    const redis = await testRedis();
    const postgres = await testPostgres();
    closers.push(
      () => redis.close(),
      () => postgres.close(),
    );
    const migrator = createPgClient({ connectionString: postgres.url });
    await migrate(migrator);
    await migrator.close();
    // Each node has its own pool, as two edge processes would.
    const node = async (name: string): Promise<TestEdge> => {
      const bus = await RedisBus.connect({ url: redis.url, nodeId: name, prefix: redis.keyPrefix });
      const presence = await RedisPresence.connect({
        url: redis.url,
        prefix: redis.keyPrefix,
        ttlMs: 30_000,
      });
      const db: SqlClient = createPgClient({ connectionString: postgres.url });
      const edge = await startTestEdge({
        env: { FLEETWIRE_NODE_ID: name },
        bus,
        presence,
        deviceState: new SqlDeviceStateStore(db),
      });
      closers.unshift(async () => {
        edge.close();
        await Promise.all([bus.close(), presence.close(), db.close()]);
      });
      return edge;
    };
    a = await node('node-a');
    b = await node('node-b');
  });
  afterEach(() => {
    clients.terminateAll();
  });
  afterAll(async () => {
    for (const close of closers.splice(0)) await close();
  });

  stateScenarios(() => ({ a, b, connect }));
});

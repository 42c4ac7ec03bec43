import { fileURLToPath } from 'node:url';

import { createPgClient, type SqlClient } from '@fleetwire/store';
import {
  killServicesFromSource,
  runServiceFromSource,
  testKafka,
  testPostgres,
  type ServiceFromSource,
  type TestKafka,
  type TestPostgres,
} from '@fleetwire/testkit';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

import { KafkaFixture, countRows, waitFor } from './kafka-test-support.js';
import { SECRET } from './test-support.js';

// tsx is a dependency of this package, so the child resolves it from here.
const PACKAGE_DIR = fileURLToPath(new URL('..', import.meta.url));

/** Runs services/ingest/src/main.ts as its own process, the way it is deployed. */
function runWorker(env: Record<string, string>, args: string[] = []): ServiceFromSource {
  return runServiceFromSource({
    packageDir: PACKAGE_DIR,
    entry: 'src/main.ts',
    args,
    env: {
      FLEETWIRE_HOST: '127.0.0.1',
      FLEETWIRE_PORT: '0',
      FLEETWIRE_JWT_HS256_SECRET: SECRET,
      ...env,
    },
  });
}

let kafka: TestKafka;
let postgres: TestPostgres;
let fixture: KafkaFixture;
let db: SqlClient;

beforeAll(async () => {
  [kafka, postgres] = await Promise.all([testKafka(), testPostgres()]);
  fixture = await KafkaFixture.connect(kafka.brokers);
  db = createPgClient({ connectionString: postgres.url });
});
afterEach(killServicesFromSource);
afterAll(async () => {
  await db?.close();
  await fixture?.close();
  await Promise.all([kafka?.close(), postgres?.close()]);
});

describe('ingest process', () => {
  it('SIGKILL mid-stream, restart: exactly N rows; SIGTERM then commits and leaves the group', async () => {
    const topic = await kafka.createTopic('telemetry', 3);
    await kafka.createTopic('telemetry.dlq', 1);
    const group = 'g-crash';
    const env = {
      FLEETWIRE_DATABASE_URL: postgres.url,
      FLEETWIRE_KAFKA_BROKERS: kafka.brokers.join(','),
      FLEETWIRE_TELEMETRY_TOPIC: topic,
      FLEETWIRE_DLQ_TOPIC: kafka.topic('telemetry.dlq'),
      FLEETWIRE_CONSUMER_GROUP: group,
      FLEETWIRE_KAFKA_SESSION_TIMEOUT_MS: '6000',
      FLEETWIRE_FETCH_MIN_BYTES: '1',
      // Small batches: many write+commit rounds, so the kill lands between them.
      FLEETWIRE_BATCH_MAX_ROWS: '300',
    };
    const first = 20_000;
    const total = 30_000;
    await fixture.produceRange(topic, 0, first);

    const crashing = runWorker(env);
    await crashing.listening;
    await waitFor('some rows written', async () => (await countRows(db)) >= 1500, 40_000);
    crashing.child.kill('SIGKILL');
    expect((await crashing.exited).signal).toBe('SIGKILL');
    const atKill = await countRows(db);
    expect(atKill).toBeLessThan(first);

    // More arrive while no worker runs; the restarted one replays what was not committed.
    await fixture.produceRange(topic, first, total);
    const restarted = runWorker(env);
    const port = await restarted.listening;
    await waitFor('all rows written', async () => (await countRows(db)) >= total, 45_000);
    await waitFor('offsets committed', () => fixture.caughtUp(group, topic));
    expect(await countRows(db)).toBe(total);
    const { rows } = await db.query<{ n: number }>(
      'select count(distinct msg_id)::int as n from telemetry where tenant = $1',
      ['acme'],
    );
    expect(rows[0]!.n).toBe(total);

    const ready = await fetch(`http://127.0.0.1:${port}/readyz`);
    expect(ready.status).toBe(200);
    const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    // The restarted worker inserted exactly what the killed one had not made durable.
    const written = /^fleetwire_ingest_rows_written_total\{[^}]*\} (\d+)$/m.exec(metrics);
    expect(Number(written?.[1])).toBe(total - atKill);
    expect(metrics).toMatch(/fleetwire_ingest_consumer_lag\{topic="[^"]+",partition="0"[^}]*\} 0/);

    restarted.child.kill('SIGTERM');
    expect((await restarted.exited).code).toBe(0);
    expect(restarted.lines.map((l) => l['msg'])).toEqual(
      expect.arrayContaining(['signal received', 'stopping', 'left the consumer group', 'stopped']),
    );
    expect(await fixture.caughtUp(group, topic)).toBe(true);
  }, 120_000);

  it('SIGTERM the moment it says listening (its consumer still joining): a clean stop, exit 0', async () => {
    const topic = await kafka.createTopic('telemetry', 1);
    const worker = runWorker({
      FLEETWIRE_DATABASE_URL: postgres.url,
      FLEETWIRE_KAFKA_BROKERS: kafka.brokers.join(','),
      FLEETWIRE_TELEMETRY_TOPIC: topic,
      FLEETWIRE_DLQ_TOPIC: kafka.topic('telemetry.dlq'),
      FLEETWIRE_CONSUMER_GROUP: 'g-early-stop',
    });
    await worker.listening;
    worker.child.kill('SIGTERM');
    const exited = await worker.exited;
    expect(exited.signal).toBeNull();
    expect(exited.code).toBe(0);
    expect(worker.lines.map((l) => l['msg'])).toEqual(
      expect.arrayContaining(['signal received', 'stopping', 'left the consumer group', 'stopped']),
    );
  }, 60_000);

  it('`migrate` applies the migrations once and exits 0', async () => {
    const database = await testPostgres();
    try {
      const env = { FLEETWIRE_DATABASE_URL: database.url };
      const once = runWorker(env, ['migrate']);
      expect((await once.exited).code).toBe(0);
      expect(once.lines.find((l) => l['msg'] === 'migrations applied')?.['applied']).toEqual([
        '0001',
        '0002',
      ]);
      const again = runWorker(env, ['migrate']);
      expect((await again.exited).code).toBe(0);
      expect(again.lines.find((l) => l['msg'] === 'migrations applied')?.['applied']).toEqual([]);
    } finally {
      await database.close();
    }
  }, 30_000);

  it('exits 1 with every config problem listed', async () => {
    const result = await runWorker({
      FLEETWIRE_DATABASE_URL: 'mysql://nope',
      FLEETWIRE_BATCH_MAX_ROWS: 'many',
    }).exited;
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/"code":"CONFIG_INVALID"/);
    expect(result.stderr).toMatch(/FLEETWIRE_DATABASE_URL/);
    expect(result.stderr).toMatch(/FLEETWIRE_BATCH_MAX_ROWS/);
  }, 30_000);
});

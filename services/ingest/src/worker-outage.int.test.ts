import { TokenVerifier, loadVerificationKeys } from '@fleetwire/auth';
import { createRegistry } from '@fleetwire/metrics';
import { LocalKafka, testPostgres, type TestPostgres } from '@fleetwire/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { KafkaFixture, telemetry, waitFor } from './kafka-test-support.js';
import { captureLogger, testConfig } from './test-support.js';
import { IngestWorker } from './worker.js';

// A private broker: this suite stops it under a running worker.
let kafka: LocalKafka;
let postgres: TestPostgres;
let fixture: KafkaFixture;
let worker: IngestWorker;
const TOPIC = 'telemetry';

beforeAll(async () => {
  [kafka, postgres] = await Promise.all([LocalKafka.launch(), testPostgres()]);
  fixture = await KafkaFixture.connect(kafka.brokers);
  await fixture.admin.createTopics({
    topics: [
      { topic: TOPIC, numPartitions: 1 },
      { topic: 'telemetry.dlq', numPartitions: 1 },
    ],
    waitForLeaders: true,
  });
  const config = testConfig({
    FLEETWIRE_DATABASE_URL: postgres.url,
    FLEETWIRE_KAFKA_BROKERS: kafka.brokers.join(','),
    FLEETWIRE_TELEMETRY_TOPIC: TOPIC,
    FLEETWIRE_DLQ_TOPIC: 'telemetry.dlq',
    FLEETWIRE_CONSUMER_GROUP: 'outage-ingest',
    FLEETWIRE_KAFKA_SESSION_TIMEOUT_MS: '6000',
    FLEETWIRE_FETCH_MIN_BYTES: '1',
    FLEETWIRE_BATCH_MAX_WAIT_MS: '100',
    FLEETWIRE_SHUTDOWN_TIMEOUT_MS: '5000',
  });
  worker = await IngestWorker.start({
    config,
    verifier: new TokenVerifier(loadVerificationKeys(config.auth), config.auth),
    registry: createRegistry({ service: 'ingest', node: 'outage' }),
    logger: captureLogger().logger,
  });
}, 120_000);

afterAll(async () => {
  await worker?.stop();
  await fixture?.close().catch(() => undefined);
  await Promise.all([kafka?.dispose(), postgres?.close()]);
});

async function readyz(): Promise<{ status: number; reason?: string }> {
  const res = await fetch(`http://127.0.0.1:${worker.port}/readyz`);
  const body = (await res.json()) as { reason?: string };
  return { status: res.status, ...(body.reason ? { reason: body.reason } : {}) };
}

describe('the ingest worker when Kafka goes away', () => {
  it('is not ready within 5 s, saying why, and ready again once the broker is back', async () => {
    await fixture.produce(TOPIC, [telemetry(1)]);
    await waitFor('ready', async () => (await readyz()).status === 200, 30_000);
    await kafka.stop();
    const stoppedAt = performance.now();
    await waitFor('not ready', async () => (await readyz()).status === 503, 5_000);
    console.log(
      `ingest not ready ${Math.round(performance.now() - stoppedAt)} ms after Kafka stopped`,
    );
    expect((await readyz()).reason).toMatch(/^consumer: /);
    await kafka.start();
    await waitFor('ready again', async () => (await readyz()).status === 200, 60_000);
  }, 120_000);
});

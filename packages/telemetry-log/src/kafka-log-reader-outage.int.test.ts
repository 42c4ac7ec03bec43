import { LocalKafka } from '@fleetwire/testkit';
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { KafkaLogReader } from './kafka-log-reader.js';

// A private broker: this suite stops and restarts it.
let kafka: LocalKafka;
beforeAll(async () => {
  kafka = await LocalKafka.launch();
  const admin = new Kafka({ brokers: kafka.brokers, logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  await admin.createTopics({
    topics: [{ topic: 'outage', numPartitions: 1 }],
    waitForLeaders: true,
  });
  await admin.disconnect();
}, 120_000);
afterAll(() => kafka.dispose());

/** Polls `test` until true; fails past the deadline (a wait for state, not a sleep). */
async function within(ms: number, test: () => boolean): Promise<number> {
  const start = performance.now();
  while (!test()) {
    if (performance.now() - start > ms) throw new Error(`not within ${ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return performance.now() - start;
}

describe('KafkaLogReader when the broker goes away', () => {
  it('is not ready, with the reason, while its consumer is out of the group; ready again after', async () => {
    const reader = new KafkaLogReader({
      kafka: new Kafka({ brokers: kafka.brokers, logLevel: logLevel.NOTHING }),
      topic: 'outage',
      groupId: 'outage-group',
      sessionTimeoutMs: 6_000,
      fetchMinBytes: 1,
      maxWaitMs: 50,
      partitionsConcurrency: 1,
    });
    try {
      await reader.start({ batch: async () => undefined });
      await within(10_000, () => reader.ready);
      expect(reader.notReadyBecause).toBeUndefined();
      await kafka.stop();
      const noticed = await within(5_000, () => !reader.ready);
      console.log(`consumer out of its group noticed after ${Math.round(noticed)} ms`);
      expect(reader.notReadyBecause).toMatch(/Kafka unreachable|consumer crashed|rebalancing/);
      await kafka.start();
      const back = await within(60_000, () => reader.ready);
      console.log(`consumer back in its group ${Math.round(back)} ms after the broker`);
    } finally {
      reader.abort();
      await reader.stop().catch(() => undefined);
    }
  }, 120_000);
});

import { LocalKafka, waitFor } from '@fleetwire/testkit';
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { KafkaLagProbe } from './kafka-lag-probe.js';
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
      await waitFor('the reader ready', () => reader.ready, 10_000);
      expect(reader.notReadyBecause).toBeUndefined();
      await kafka.stop();
      const noticed = await waitFor('the reader not ready', () => !reader.ready, 5_000);
      console.log(`consumer out of its group noticed after ${Math.round(noticed)} ms`);
      expect(reader.notReadyBecause).toMatch(/Kafka unreachable|consumer crashed|rebalancing/);
      await kafka.start();
      const back = await waitFor('the reader ready again', () => reader.ready, 60_000);
      console.log(`consumer back in its group ${Math.round(back)} ms after the broker`);
    } finally {
      reader.abort();
      await reader.stop().catch(() => undefined);
    }
  }, 120_000);
});

describe('KafkaLagProbe', () => {
  it('measures lag at the broker: it rises while nothing consumes, falls to 0 once committed', async () => {
    const client = new Kafka({ brokers: kafka.brokers, logLevel: logLevel.NOTHING });
    const producer = client.producer();
    await producer.connect();
    const lags: number[] = [];
    const probe = new KafkaLagProbe({
      kafka: client,
      topic: 'outage',
      groupId: 'lag-group',
      onLag: (_partition, lag) => lags.push(lag),
    });
    try {
      const before = (await probe.measure()).get(0) ?? 0;
      await producer.send({ topic: 'outage', messages: [{ value: 'a' }, { value: 'b' }] });
      // Nobody in lag-group consumes: the lag grows with what was produced.
      expect((await probe.measure()).get(0)).toBe(before + 2);
      const admin = client.admin();
      await admin.connect();
      const high = (await admin.fetchTopicOffsets('outage'))[0]?.high ?? '0';
      await admin.setOffsets({
        groupId: 'lag-group',
        topic: 'outage',
        partitions: [{ partition: 0, offset: high }],
      });
      await admin.disconnect();
      expect((await probe.measure()).get(0)).toBe(0);
      expect(lags.at(-1)).toBe(0);
    } finally {
      await probe.stop();
      await producer.disconnect();
    }
  }, 60_000);
});

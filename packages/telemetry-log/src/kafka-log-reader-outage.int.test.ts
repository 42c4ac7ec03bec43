import { LocalKafka, waitFor } from '@fleetwire/testkit';
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { KafkaLagProbe } from './kafka-lag-probe.js';
import { KafkaLogReader, LOG_READER_RETRY } from './kafka-log-reader.js';

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

describe('KafkaLogReader after a broker crash and restart', () => {
  it('two readers of one group are back in it and consuming within seconds, whatever the session timeout', async () => {
    // A long session timeout: the group's old members (the readers before they crashed) would
    // hold the group for that long after the broker's restart if the rebalance timeout did not
    // end the wait sooner (DEFAULT_REBALANCE_TIMEOUT_MS).
    const consumed: string[] = [];
    const readers = [0, 1].map(
      (i) =>
        new KafkaLogReader({
          // As the ingest worker builds it (vitest's NODE_ENV=test has faster kafkajs defaults).
          kafka: new Kafka({
            clientId: `crash-${i}`,
            brokers: kafka.brokers,
            logLevel: logLevel.NOTHING,
            retry: LOG_READER_RETRY,
          }),
          topic: 'outage',
          groupId: 'crash-group',
          sessionTimeoutMs: 30_000,
          fetchMinBytes: 1,
          maxWaitMs: 50,
          partitionsConcurrency: 1,
        }),
    );
    const producer = new Kafka({ brokers: kafka.brokers, logLevel: logLevel.NOTHING }).producer();
    try {
      await Promise.all(
        readers.map((reader) =>
          reader.start({
            batch: async (batch) => {
              for (const record of batch.records) consumed.push(String(record.value));
              await reader.commit(batch.next);
            },
          }),
        ),
      );
      await waitFor('both readers ready', () => readers.every((r) => r.ready), 30_000);
      await kafka.kill();
      await waitFor('both readers not ready', () => readers.every((r) => !r.ready), 10_000);
      await kafka.start();
      const back = await waitFor(
        'both readers ready again',
        () => readers.every((r) => r.ready),
        15_000,
      );
      console.log(`both readers back in their group ${Math.round(back)} ms after the broker`);
      await producer.connect();
      await producer.send({ topic: 'outage', messages: [{ value: 'after-restart' }] });
      await waitFor('the record consumed', () => consumed.includes('after-restart'), 15_000);
    } finally {
      await producer.disconnect().catch(() => undefined);
      for (const reader of readers) reader.abort();
      await Promise.all(readers.map((reader) => reader.stop().catch(() => undefined)));
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

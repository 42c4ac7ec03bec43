import { decodeTelemetryRecord, type TelemetryRecord } from '@fleetwire/protocol';
import { testKafka, type TestKafka } from '@fleetwire/testkit';
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll } from 'vitest';

import { KafkaTelemetryLog } from './kafka-telemetry-log.js';
import { telemetryLogContract } from './telemetry-log-contract.js';

let kafka: TestKafka;
let topics = 0;
beforeAll(async () => {
  kafka = await testKafka();
});
afterAll(() => kafka.close());

/** Reads a topic from the beginning until `expected` records arrived. */
export async function readTopic(
  brokers: string[],
  topic: string,
  expected: number,
  groupId: string,
): Promise<TelemetryRecord[]> {
  const consumer = new Kafka({ brokers, logLevel: logLevel.NOTHING }).consumer({ groupId });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  const records: TelemetryRecord[] = [];
  await new Promise<void>((resolve, reject) => {
    if (expected === 0) resolve();
    consumer
      .run({
        eachMessage: async ({ message }) => {
          records.push(decodeTelemetryRecord(message.value));
          if (records.length === expected) resolve();
        },
      })
      .catch(reject);
  });
  await consumer.disconnect();
  return records;
}

telemetryLogContract('kafka', async () => {
  const topic = await kafka.createTopic(`telemetry-${++topics}`, 3);
  const log = await KafkaTelemetryLog.connect({
    brokers: kafka.brokers,
    topic,
    lingerMs: 2,
    maxBatch: 50,
  });
  return {
    log,
    readBack: (expected) => readTopic(kafka.brokers, topic, expected, `${topic}-reader`),
    close: () => log.close().catch(() => undefined),
  };
});

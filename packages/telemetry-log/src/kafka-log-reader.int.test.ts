import { testKafka, type TestKafka } from '@fleetwire/testkit';
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { KafkaLogReader } from './kafka-log-reader.js';
import { KafkaTelemetryLog } from './kafka-telemetry-log.js';
import type { LogBatch, TelemetryLogReader } from './log-reader.js';
import { logReaderContract } from './log-reader-contract.js';
import { record } from './telemetry-log-contract.js';

let kafka: TestKafka;
let topics = 0;
beforeAll(async () => {
  kafka = await testKafka();
});
afterAll(() => kafka.close());

function readerOf(topic: string, groupId: string): KafkaLogReader {
  return new KafkaLogReader({
    kafka: new Kafka({ brokers: kafka.brokers, logLevel: logLevel.NOTHING }),
    topic,
    groupId,
    sessionTimeoutMs: 6_000,
    fetchMinBytes: 1,
    maxWaitMs: 50,
    partitionsConcurrency: 3,
    heartbeatEveryMs: 200,
  });
}

async function openLog(partitions: number) {
  const topic = await kafka.createTopic(`reader-${++topics}`, partitions);
  const log = await KafkaTelemetryLog.connect({
    brokers: kafka.brokers,
    topic,
    lingerMs: 2,
    maxBatch: 50,
  });
  const readers: TelemetryLogReader[] = [];
  const reader = () => {
    const r = readerOf(topic, `${topic}-group`);
    readers.push(r);
    return r;
  };
  const close = async () => {
    for (const r of readers) r.abort();
    await Promise.all(readers.map((r) => r.stop().catch(() => undefined)));
    await log.close().catch(() => undefined);
  };
  return { log, reader, close };
}

logReaderContract('kafka', () => openLog(3));

describe('KafkaLogReader', () => {
  it('a rebalance revokes a batch still in hand: its signal aborts, its commit is refused, the records are read again', async () => {
    const subject = await openLog(1);
    try {
      let first: LogBatch | undefined;
      let refused: unknown;
      let stalled!: () => void;
      const inHand = new Promise<void>((resolve) => (stalled = resolve));
      // What the partition's owner reads after the revocation, whichever member it is.
      const again: string[] = [];
      let caughtUp!: () => void;
      const readAgain = new Promise<void>((resolve) => (caughtUp = resolve));
      const handlerOf = (reader: TelemetryLogReader) => async (batch: LogBatch) => {
        if (first) {
          again.push(...batch.records.map((r) => r.offset));
          await reader.commit(batch.next);
          if (again.includes('1')) caughtUp();
          return;
        }
        first = batch;
        stalled();
        // A write that does not finish: only the revocation ends the wait.
        await new Promise((done) => batch.signal.addEventListener('abort', done, { once: true }));
        refused = await reader.commit(batch.next).catch((error: unknown) => error);
      };
      const a = subject.reader();
      await a.start({ batch: handlerOf(a) });
      await subject.log.append(record('x', 0));
      await subject.log.append(record('x', 1));
      await inHand;

      // A second member joins: the group rebalances while the first batch is in hand.
      const b = subject.reader();
      await b.start({ batch: handlerOf(b) });
      expect(first!.signal.aborted).toBe(true);
      expect(refused).toMatchObject({ code: 'LOG_COMMIT_REFUSED' });
      expect((refused as Error).message).toMatch(/^partition revoked: /);
      await readAgain;
      expect(again).toEqual(['0', '1']);
    } finally {
      await subject.close();
    }
  });
});

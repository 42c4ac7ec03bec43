import { connect, type Socket } from 'node:net';

import type { TelemetryRecord } from '@fleetwire/protocol';
import { createRegistry } from '@fleetwire/metrics';
import { testKafka, type TestKafka } from '@fleetwire/testkit';
import { decodeTelemetryRecord } from '@fleetwire/protocol';
import { Kafka, logLevel, type ISocketFactory } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { KafkaTelemetryLog } from './kafka-telemetry-log.js';
import { TelemetryLogMetrics } from './metrics.js';

let kafka: TestKafka;
beforeAll(async () => {
  kafka = await testKafka();
});
afterAll(() => kafka.close());

/** Kafka's request header starts with the api key, after the 4-byte size; Produce is 0. */
const PRODUCE_API_KEY = 0;

/**
 * Broker connections that, while `losing`, deliver every produce request to the broker but lose
 * its answer: the connection is cut once the request is out, as when a broker appends a batch
 * and dies (or the network fails) before its response reaches the edge.
 */
class LosingSockets {
  losing = false;
  cut = 0;

  readonly factory: ISocketFactory = ({ host, port, onConnect }) => {
    const socket: Socket = connect({ host, port }, onConnect);
    const write = socket.write.bind(socket) as (...args: unknown[]) => boolean;
    let produceSent = false;
    socket.write = ((chunk: unknown, ...rest: unknown[]) => {
      if (this.losing && Buffer.isBuffer(chunk) && chunk.length >= 6) {
        produceSent ||= chunk.readInt16BE(4) === PRODUCE_API_KEY;
      }
      return write(chunk, ...rest);
    }) as Socket['write'];
    const emit = socket.emit.bind(socket) as (
      event: string | symbol,
      ...args: unknown[]
    ) => boolean;
    socket.emit = ((event: string | symbol, ...args: unknown[]) => {
      if (event === 'data' && produceSent) {
        // The broker answered: that answer is lost with the connection.
        this.cut += 1;
        socket.destroy(new Error('connection lost before the answer'));
        return true;
      }
      return emit(event, ...args);
    }) as Socket['emit'];
    return socket;
  };
}

/** The msg ids of every record in the topic's one partition, in offset order. */
async function msgIdsIn(topic: string): Promise<string[]> {
  const client = new Kafka({ brokers: kafka.brokers, logLevel: logLevel.NOTHING });
  const admin = client.admin();
  await admin.connect();
  const [end] = await admin.fetchTopicOffsets(topic);
  await admin.disconnect();
  const high = Number(end?.high ?? 0);
  const consumer = client.consumer({ groupId: `${topic}-reader` });
  const ids: string[] = [];
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await new Promise<void>((resolve, reject) => {
    if (high === 0) resolve();
    consumer
      .run({
        eachMessage: async ({ message }) => {
          ids.push(decodeTelemetryRecord(message.value).msgId);
          if (Number(message.offset) + 1 >= high) resolve();
        },
      })
      .catch(reject);
  });
  await consumer.disconnect();
  return ids;
}

function record(msgId: string): TelemetryRecord {
  return {
    v: 1,
    tenant: 'lost-response',
    deviceId: 'dev-1',
    msgId,
    topic: 'devices/dev-1/telemetry',
    ts: Date.now(),
    data: { msgId },
  };
}

describe('KafkaTelemetryLog when a produce answer is lost', () => {
  it('a record appended after a failed send is in the topic when its append resolved', async () => {
    const topic = await kafka.createTopic('lost-response', 1);
    const sockets = new LosingSockets();
    const metrics = new TelemetryLogMetrics(createRegistry({ service: 'edge', node: 'test' }));
    const log = await KafkaTelemetryLog.connect({
      brokers: kafka.brokers,
      topic,
      lingerMs: 1,
      maxBatch: 1,
      sendTimeoutMs: 20_000,
      socketFactory: sockets.factory,
      metrics,
    });
    try {
      await log.append(record('a'));
      // The broker appends `b` (every retry too, which it recognises as the same batch), but
      // no answer comes back: the send fails once kafkajs's retries are spent.
      sockets.losing = true;
      await expect(log.append(record('b'))).rejects.toMatchObject({ code: 'LOG_UNAVAILABLE' });
      expect(sockets.cut).toBeGreaterThan(0);
      sockets.losing = false;
      // A different record, in a batch of the same size: appended and answered normally. With
      // the failed batch's sequence number reused, the broker takes it for a retry of `b` and
      // answers "duplicate, already stored" without storing it.
      await log.append(record('c'));
      await log.append(record('d'));
      expect(await msgIdsIn(topic)).toEqual(['a', 'b', 'c', 'd']);
      expect((await metrics.producerRenewals.get()).values[0]?.value).toBe(1);
    } finally {
      await log.close().catch(() => undefined);
    }
  }, 60_000);
});

import {
  KafkaJSError,
  KafkaJSNonRetriableError,
  KafkaJSNumberOfRetriesExceeded,
  KafkaJSProtocolError,
  type Message,
  type ProducerRecord,
} from 'kafkajs';
import { describe, expect, it } from 'vitest';

import { DeadLetterSendError, type DeadLetter } from './dead-letter.js';
import {
  DEFAULT_DLQ_MAX_SEND_BYTES,
  DLQ_HEADERS,
  KafkaDeadLetterSink,
  finalKafkaFailure,
} from './kafka-dead-letter-sink.js';
import { captureLogger } from './test-support.js';

/** A protocol error as kafkajs throws it from `send`: wrapped once the retrier gives up. */
function refused(type: string, code: number, retriable = false): Error {
  const protocol = new KafkaJSProtocolError(
    Object.assign(new Error(`${type} from the broker`), { type, code, retriable }),
  );
  if (retriable) {
    return new KafkaJSNumberOfRetriesExceeded(protocol, { retryCount: 5, retryTime: 300 });
  }
  const Wrapper = KafkaJSNonRetriableError as unknown as new (
    e: Error,
    options: { cause: Error },
  ) => Error;
  return new Wrapper(protocol, { cause: protocol });
}

function letter(offset: number, valueBytes = 1000): DeadLetter {
  return {
    source: {
      topic: 'telemetry',
      partition: 3,
      offset: String(offset),
      key: Buffer.from(`acme/dev-${offset % 7}`),
      value: Buffer.alloc(valueBytes, 'x'),
    },
    reason: 'record_rejected_by_store',
    message: 'insert telemetry: has no equivalent in encoding "LATIN1" (SQLSTATE 22P05)',
  };
}

const header = (m: Message, name: string) => m.headers?.[name]?.toString();
const sizeOf = (messages: Message[]) =>
  messages.reduce((sum, m) => sum + (m.value?.length ?? 0) + 200, 0);

/**
 * A producer that keeps what it was sent, refusing for good any request whose values add up to
 * more than `maxBytes` (as a broker's `message.max.bytes`), and failing the requests `fail` says.
 */
function producer(maxBytes: number, fail: (n: number, messages: Message[]) => Error | undefined) {
  const requests: Message[][] = [];
  const stored: Message[] = [];
  return {
    requests,
    stored,
    send: async (record: ProducerRecord) => {
      requests.push(record.messages);
      const error = fail(requests.length, record.messages);
      if (error) throw error;
      if (sizeOf(record.messages) > maxBytes) throw refused('MESSAGE_TOO_LARGE', 10);
      stored.push(...record.messages);
      return [];
    },
  };
}

describe('KafkaDeadLetterSink', () => {
  it('splits 1,500 letters of ~1 KiB into requests under the bound, in order, all acknowledged', async () => {
    const kafka = producer(1024 * 1024, () => undefined);
    const sink = new KafkaDeadLetterSink(kafka, 'dlq');
    const letters = Array.from({ length: 1500 }, (_, i) => letter(i));
    const receipt = await sink.send(letters);
    expect(receipt).toEqual({ withoutValue: [], lost: [] });
    expect(kafka.stored.map((m) => header(m, DLQ_HEADERS.offset))).toEqual(
      letters.map((l) => l.source.offset),
    );
    expect(kafka.requests.length).toBeGreaterThanOrEqual(3);
    for (const request of kafka.requests) {
      expect(sizeOf(request)).toBeLessThanOrEqual(DEFAULT_DLQ_MAX_SEND_BYTES + 200 * 10);
    }
  });

  it('a letter Kafka refuses for good (MESSAGE_TOO_LARGE) goes once more without its value, its source in the headers', async () => {
    const kafka = producer(100_000, () => undefined);
    const { logger, lines } = captureLogger();
    const sink = new KafkaDeadLetterSink(kafka, 'dlq', { logger });
    const letters = [letter(1), letter(2, 300_000), letter(3)];
    const receipt = await sink.send(letters);
    expect(receipt).toEqual({ withoutValue: [letters[1]], lost: [] });
    expect(
      kafka.stored.map((m) => [header(m, DLQ_HEADERS.offset), m.value?.length ?? null]),
    ).toEqual([
      ['1', 1000],
      ['2', null],
      ['3', 1000],
    ]);
    const stripped = kafka.stored[1]!;
    expect(stripped.key?.toString()).toBe('acme/dev-2');
    expect(
      Object.fromEntries(Object.entries(stripped.headers!).map(([k, v]) => [k, String(v)])),
    ).toEqual({
      [DLQ_HEADERS.reason]: 'record_rejected_by_store',
      [DLQ_HEADERS.message]: letters[1]!.message,
      [DLQ_HEADERS.topic]: 'telemetry',
      [DLQ_HEADERS.partition]: '3',
      [DLQ_HEADERS.offset]: '2',
      [DLQ_HEADERS.valueDropped]: 'MESSAGE_TOO_LARGE (300000 bytes)',
    });
    // Halving found the big letter (3 → 2 → 1), then it went once without its value.
    const tries = kafka.requests.filter((r) =>
      r.some((m) => header(m, DLQ_HEADERS.offset) === '2'),
    );
    expect(tries.map((r) => r.length)).toEqual([3, 2, 1, 1]);
    expect(tries.at(-1)![0]!.value).toBeNull();
    expect(lines.find((l) => String(l['msg']).startsWith('dead letters refused'))).toMatchObject({
      refusal: 'MESSAGE_TOO_LARGE',
      letters: [{ topic: 'telemetry', partition: 3, offset: '2' }],
    });
  });

  it('refused even without its value: lost, logged with its source, never sent again', async () => {
    const kafka = producer(Infinity, () => refused('TOPIC_AUTHORIZATION_FAILED', 29));
    const { logger, lines } = captureLogger();
    const sink = new KafkaDeadLetterSink(kafka, 'dlq', { logger });
    const letters = [letter(7), letter(8)];
    expect(await sink.send(letters)).toEqual({ withoutValue: [], lost: letters });
    // Not a refusal of one record: no halving; once whole, once without values.
    expect(kafka.requests.map((r) => r.map((m) => m.value?.length ?? null))).toEqual([
      [1000, 1000],
      [null, null],
    ]);
    expect(lines.find((l) => l['level'] === 50)).toMatchObject({
      refusal: 'TOPIC_AUTHORIZATION_FAILED',
      letters: [
        { topic: 'telemetry', partition: 3, offset: '7', reason: 'record_rejected_by_store' },
        { topic: 'telemetry', partition: 3, offset: '8', reason: 'record_rejected_by_store' },
      ],
    });
  });

  it('a failure worth retrying rejects, saying how many letters were handled before it', async () => {
    const unavailable = refused('LEADER_NOT_AVAILABLE', 5, true);
    const kafka = producer(Infinity, (n) => (n === 2 ? unavailable : undefined));
    const sink = new KafkaDeadLetterSink(kafka, 'dlq', { maxSendBytes: 20_000 });
    const letters = Array.from({ length: 40 }, (_, i) => letter(i));
    const error = await sink.send(letters).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DeadLetterSendError);
    const { handled, cause } = error as DeadLetterSendError;
    expect(cause).toBe(unavailable);
    expect(handled).toBe(kafka.requests[0]!.length);
    expect(handled).toBeGreaterThan(0);
    expect(kafka.stored).toHaveLength(handled);
  });
});

describe('finalKafkaFailure', () => {
  it.each<[string, unknown, string | undefined]>([
    ['MESSAGE_TOO_LARGE', refused('MESSAGE_TOO_LARGE', 10), 'MESSAGE_TOO_LARGE'],
    ['RECORD_LIST_TOO_LARGE', refused('RECORD_LIST_TOO_LARGE', 18), 'RECORD_LIST_TOO_LARGE'],
    [
      'topic authorization',
      refused('TOPIC_AUTHORIZATION_FAILED', 29),
      'TOPIC_AUTHORIZATION_FAILED',
    ],
    [
      'the bare protocol error',
      new KafkaJSProtocolError(
        Object.assign(new Error('x'), { type: 'INVALID_RECORD', retriable: false }),
      ),
      'INVALID_RECORD',
    ],
    [
      'a client-side refusal',
      new KafkaJSNonRetriableError('Invalid topic'),
      'KafkaJSNonRetriableError',
    ],
    ['retries run out on a leader change', refused('NOT_LEADER_FOR_PARTITION', 6, true), undefined],
    ['a broker away', new KafkaJSError('Connection error: ECONNREFUSED'), undefined],
    [
      'the producer disconnecting',
      new KafkaJSNonRetriableError('The producer is disconnecting; therefore…'),
      undefined,
    ],
    ['not a Kafka error', new Error('boom'), undefined],
  ])('%s → %s', (_name, error, final) => {
    expect(finalKafkaFailure(error)).toBe(final);
  });
});

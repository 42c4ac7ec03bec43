import type { Message, Producer } from 'kafkajs';
import type { Logger } from 'pino';

import {
  DeadLetterSendError,
  type DeadLetter,
  type DeadLetterReceipt,
  type DeadLetterSink,
} from './dead-letter.js';

/** Headers of a dead-letter record; its key and value are the original's, byte for byte. */
export const DLQ_HEADERS = {
  reason: 'fleetwire-dlq-reason',
  message: 'fleetwire-dlq-message',
  topic: 'fleetwire-source-topic',
  partition: 'fleetwire-source-partition',
  offset: 'fleetwire-source-offset',
  /** Only on a letter sent without its value: why, and the value's size. */
  valueDropped: 'fleetwire-dlq-value-dropped',
} as const;

/**
 * Bytes of dead letters per produce request at most: half of Kafka's default `message.max.bytes`
 * (1 MiB), so a request's record batches stay well under it whatever their partitions.
 */
export const DEFAULT_DLQ_MAX_SEND_BYTES = 512 * 1024;

/** Counted per record on top of its key, value and headers (the record's own framing). */
const RECORD_OVERHEAD_BYTES = 64;
/** A letter sent without its value keeps at most this much of its message and key. */
const STRIPPED_MESSAGE_CHARS = 1024;
const STRIPPED_KEY_BYTES = 1024;

/** Refusals caused by some record of the request: halving it finds which. */
const RECORD_REFUSALS = new Set(['MESSAGE_TOO_LARGE', 'RECORD_LIST_TOO_LARGE', 'INVALID_RECORD']);

/**
 * What a failed kafkajs send means for the records in it: undefined when retrying can help (a
 * broker away, a leader moving, retries run out on one of those), else why Kafka refused them
 * for good (`MESSAGE_TOO_LARGE`, `TOPIC_AUTHORIZATION_FAILED`, a non-retriable client error).
 */
export function finalKafkaFailure(error: unknown): string | undefined {
  let type: string | undefined;
  let retriable: boolean | undefined;
  let current: unknown = error;
  for (let depth = 0; depth < 8 && current !== null && typeof current === 'object'; depth += 1) {
    const { name, type: own, retriable: flag, cause } = current as Record<string, unknown>;
    // A subclass of the non-retriable error, but what ran out were retries of a retriable one.
    if (name === 'KafkaJSNumberOfRetriesExceeded') return undefined;
    if (typeof own === 'string') type ??= own;
    if (typeof flag === 'boolean') retriable ??= flag;
    current = cause;
  }
  if (retriable !== false) return undefined;
  // A producer shutting down refuses everything: that is the process, not the letters.
  if (/producer is disconnect/i.test(String((error as Error)?.message))) return undefined;
  return type ?? (error as Error)?.name ?? 'non-retriable';
}

function bytesOf(value: Buffer | string | null | undefined): number {
  if (value === null || value === undefined) return 0;
  return typeof value === 'string' ? Buffer.byteLength(value) : value.length;
}

function messageBytes(message: Message): number {
  let bytes = RECORD_OVERHEAD_BYTES + bytesOf(message.key) + bytesOf(message.value);
  for (const [name, value] of Object.entries(message.headers ?? {})) {
    bytes += Buffer.byteLength(name) + bytesOf(value as Buffer | string | undefined);
  }
  return bytes;
}

function headersOf({ source, reason, message }: DeadLetter, maxMessage = Infinity) {
  return {
    [DLQ_HEADERS.reason]: reason,
    [DLQ_HEADERS.message]:
      message.length > maxMessage ? `${message.slice(0, maxMessage)}…` : message,
    [DLQ_HEADERS.topic]: source.topic,
    [DLQ_HEADERS.partition]: String(source.partition),
    [DLQ_HEADERS.offset]: source.offset,
  };
}

function whole(letter: DeadLetter): Message {
  return { key: letter.source.key, value: letter.source.value, headers: headersOf(letter) };
}

/** The letter without its value: its headers still say where to find the record. */
function stripped(letter: DeadLetter, refusal: string): Message {
  const { key, value } = letter.source;
  return {
    key: bytesOf(key) <= STRIPPED_KEY_BYTES ? key : null,
    value: null,
    headers: {
      ...headersOf(letter, STRIPPED_MESSAGE_CHARS),
      [DLQ_HEADERS.valueDropped]: `${refusal} (${bytesOf(value)} bytes)`,
    },
  };
}

/** `items` in runs of at most `maxBytes` (one bigger item goes alone). */
function chunks<T>(items: readonly T[], size: (item: T) => number, maxBytes: number): T[][] {
  const out: T[][] = [];
  let chunk: T[] = [];
  let bytes = 0;
  for (const item of items) {
    const own = size(item);
    if (chunk.length > 0 && bytes + own > maxBytes) {
      out.push(chunk);
      chunk = [];
      bytes = 0;
    }
    chunk.push(item);
    bytes += own;
  }
  if (chunk.length > 0) out.push(chunk);
  return out;
}

function sourcesOf(letters: readonly DeadLetter[]) {
  return letters.map(({ source, reason }) => ({
    topic: source.topic,
    partition: source.partition,
    offset: source.offset,
    reason,
  }));
}

export interface KafkaDeadLetterSinkOptions {
  /** Bytes of letters (keys, values, headers) per produce request at most. */
  maxSendBytes?: number;
  /** Where letters sent without their value, or lost, are reported. */
  logger?: Logger;
}

/**
 * The dead-letter topic: the original bytes for a later replay, and headers saying why. Letters
 * go in produce requests of at most `maxSendBytes` (kafkajs does not split by size, and Kafka
 * refuses a record batch over `message.max.bytes` for good). A request Kafka refuses for good
 * because of one of its records is halved until that record is alone; a record refused for good
 * is sent again without its value, its headers naming the source topic, partition and offset (and
 * `fleetwire-dlq-value-dropped` why); refused even so, it is lost: logged at error level with
 * its source, where the record still is until the topic's retention. Nothing Kafka refuses for
 * good is sent again as it was.
 */
export class KafkaDeadLetterSink implements DeadLetterSink {
  private readonly maxSendBytes: number;

  constructor(
    private readonly producer: Pick<Producer, 'send'>,
    private readonly topic: string,
    private readonly options: KafkaDeadLetterSinkOptions = {},
  ) {
    this.maxSendBytes = options.maxSendBytes ?? DEFAULT_DLQ_MAX_SEND_BYTES;
  }

  /**
   * Resolves once Kafka acknowledged every record (acks from all in-sync replicas) or refused it
   * for good (the receipt). A retriable failure rejects with a `DeadLetterSendError` saying how
   * many of the first letters were handled, so a retry does not send those again.
   */
  async send(letters: readonly DeadLetter[]): Promise<DeadLetterReceipt> {
    const receipt = { withoutValue: [] as DeadLetter[], lost: [] as DeadLetter[] };
    let handled = 0;
    for (const chunk of chunks(letters, (l) => messageBytes(whole(l)), this.maxSendBytes)) {
      try {
        await this.sendWhole(chunk, receipt);
      } catch (error) {
        throw new DeadLetterSendError(
          `dead-letter send: ${(error as Error)?.message ?? String(error)}`,
          handled,
          receipt,
          { cause: error },
        );
      }
      handled += chunk.length;
    }
    return receipt;
  }

  /** Sends `letters` as they are; what Kafka refuses for good goes on without its value. */
  private async sendWhole(letters: DeadLetter[], receipt: DeadLetterReceipt): Promise<void> {
    const refusal = await this.produce(letters.map(whole));
    if (refusal === undefined) return;
    if (letters.length > 1 && RECORD_REFUSALS.has(refusal)) {
      const middle = Math.ceil(letters.length / 2);
      await this.sendWhole(letters.slice(0, middle), receipt);
      await this.sendWhole(letters.slice(middle), receipt);
      return;
    }
    this.options.logger?.warn(
      { refusal, topic: this.topic, letters: sourcesOf(letters) },
      'dead letters refused by Kafka for good; sending them without their value',
    );
    await this.sendStripped(letters, refusal, receipt);
  }

  private async sendStripped(
    letters: DeadLetter[],
    refusal: string,
    receipt: DeadLetterReceipt,
  ): Promise<void> {
    const size = (l: DeadLetter) => messageBytes(stripped(l, refusal));
    for (const chunk of chunks(letters, size, this.maxSendBytes)) {
      const again = await this.produce(chunk.map((l) => stripped(l, refusal)));
      if (again === undefined) {
        (receipt.withoutValue as DeadLetter[]).push(...chunk);
        continue;
      }
      (receipt.lost as DeadLetter[]).push(...chunk);
      this.options.logger?.error(
        { refusal: again, topic: this.topic, letters: sourcesOf(chunk) },
        'dead letters refused by Kafka even without their value; lost (the records stay in their source topic)',
      );
    }
  }

  /** One produce request: undefined once acknowledged, why when refused for good; else throws. */
  private async produce(messages: Message[]): Promise<string | undefined> {
    try {
      await this.producer.send({ topic: this.topic, acks: -1, messages });
      return undefined;
    } catch (error) {
      const refusal = finalKafkaFailure(error);
      if (refusal === undefined) throw error;
      return refusal;
    }
  }
}

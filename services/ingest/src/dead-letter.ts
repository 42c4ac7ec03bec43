import type { LogRecord } from '@fleetwire/telemetry-log';
import type { Producer } from 'kafkajs';

import type { IngestMetrics } from './metrics.js';
import type { DeadLetterReason } from './record-check.js';

/** A record that cannot be stored, with where it came from and why. */
export interface DeadLetter {
  /** The record as read: its bytes and its topic, partition and offset. */
  source: LogRecord;
  reason: DeadLetterReason;
  message: string;
}

/**
 * Where records that cannot be stored are set aside: the dead-letter topic in a cluster
 * (`KafkaDeadLetterSink`), a JSON-lines file in the embedded mode. `send` resolves once every
 * letter is durable; the ingest commits past a record only after that.
 */
export interface DeadLetterSink {
  send(letters: readonly DeadLetter[]): Promise<void>;
}

/** Headers of a dead-letter record; its key and value are the original's, byte for byte. */
export const DLQ_HEADERS = {
  reason: 'fleetwire-dlq-reason',
  message: 'fleetwire-dlq-message',
  topic: 'fleetwire-source-topic',
  partition: 'fleetwire-source-partition',
  offset: 'fleetwire-source-offset',
} as const;

/** The dead-letter topic: the original bytes for a later replay, and headers saying why. */
export class KafkaDeadLetterSink implements DeadLetterSink {
  constructor(
    private readonly producer: Pick<Producer, 'send'>,
    private readonly topic: string,
  ) {}

  /** Resolves once Kafka acknowledged every record (acks from all in-sync replicas). */
  async send(letters: readonly DeadLetter[]): Promise<void> {
    if (letters.length === 0) return;
    await this.producer.send({
      topic: this.topic,
      acks: -1,
      messages: letters.map(({ source, reason, message }) => ({
        key: source.key,
        value: source.value,
        headers: {
          [DLQ_HEADERS.reason]: reason,
          [DLQ_HEADERS.message]: message,
          [DLQ_HEADERS.topic]: source.topic,
          [DLQ_HEADERS.partition]: String(source.partition),
          [DLQ_HEADERS.offset]: source.offset,
        },
      })),
    });
  }
}

/** Sends `letters` and counts them by reason once they are durable (`dlq_records_total`). */
export async function sendDeadLetters(
  sink: DeadLetterSink,
  letters: readonly DeadLetter[],
  metrics: IngestMetrics,
): Promise<void> {
  if (letters.length === 0) return;
  await sink.send(letters);
  for (const letter of letters) metrics.dlqRecords.inc({ reason: letter.reason });
}

import type { Producer } from 'kafkajs';

import type { DeadLetterReason } from './record-check.js';
import type { IngestMetrics } from './metrics.js';

/** Where a record came from; the dead-letter copy names it so the record can be found again. */
export interface SourceRecord {
  topic: string;
  partition: number;
  offset: string;
  key: Buffer | null;
  value: Buffer | null;
}

export interface DeadLetter {
  source: SourceRecord;
  reason: DeadLetterReason;
  message: string;
}

/** Headers of a dead-letter record; its key and value are the original's, byte for byte. */
export const DLQ_HEADERS = {
  reason: 'fleetwire-dlq-reason',
  message: 'fleetwire-dlq-message',
  topic: 'fleetwire-source-topic',
  partition: 'fleetwire-source-partition',
  offset: 'fleetwire-source-offset',
} as const;

/** Sends bad records to the dead-letter topic, keeping the original bytes for a later replay. */
export class DeadLetterQueue {
  constructor(
    private readonly producer: Producer,
    private readonly topic: string,
    private readonly metrics: IngestMetrics,
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
    for (const letter of letters) this.metrics.dlqRecords.inc({ reason: letter.reason });
  }
}

import { appendFile } from 'node:fs/promises';

import { DLQ_HEADERS, DeadLetterQueue, type IngestMetrics } from '@fleetwire/ingest';

type Producer = ConstructorParameters<typeof DeadLetterQueue>[0];
type ProducerRecord = Parameters<Producer['send']>[0];

/**
 * The embedded dead-letter "topic": one JSON line per refused record in a file of the data dir,
 * with the headers the Kafka dead-letter topic would carry and the original record as text.
 * It stands in for the kafkajs producer, so the ingest worker's own DeadLetterQueue (and its
 * metrics) are used unchanged.
 */
export function fileDeadLetterQueue(file: string, metrics: IngestMetrics): DeadLetterQueue {
  const producer = {
    async send({ messages }: ProducerRecord) {
      const lines = messages.map(({ key, value, headers }) =>
        JSON.stringify({
          reason: headers?.[DLQ_HEADERS.reason],
          message: headers?.[DLQ_HEADERS.message],
          offset: headers?.[DLQ_HEADERS.offset],
          key: key?.toString(),
          record: value?.toString(),
        }),
      );
      await appendFile(file, `${lines.join('\n')}\n`, { mode: 0o600 });
      return [];
    },
  };
  // Only `send` is used by DeadLetterQueue; the rest of kafkajs's Producer is never called.
  return new DeadLetterQueue(producer as unknown as Producer, 'dead-letters.jsonl', metrics);
}

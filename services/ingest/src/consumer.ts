import type { TelemetryRecord } from '@fleetwire/protocol';
import { DAY_MS, dayStart } from '@fleetwire/store';
import type { Consumer, EachBatchPayload, Kafka } from 'kafkajs';
import type { Logger } from 'pino';

import { Batcher } from './batcher.js';
import type { BatchWriter, PendingRow } from './batch-writer.js';
import type { ConsumerConfig } from './config.js';
import type { DeadLetter, DeadLetterQueue } from './dead-letter.js';
import type { IngestMetrics } from './metrics.js';
import { checkRecord } from './record-check.js';

export interface IngestConsumerDeps {
  kafka: Kafka;
  config: ConsumerConfig;
  /** Records older than this many days before today are past retention (dead-lettered). */
  retentionDays: number;
  writer: BatchWriter;
  dlq: DeadLetterQueue;
  metrics: IngestMetrics;
  logger: Logger;
  /** Called when the consumer stopped for good (kafkajs gave up restarting it). */
  onFatal: (error: Error) => void;
}

/** While waiting for a batch to be written, the group must still hear from us. */
const HEARTBEAT_EVERY_MS = 1_000;

function toRow({ tenant, deviceId, msgId, topic, ts, data }: TelemetryRecord) {
  return { tenant, deviceId, msgId, topic, ts, data };
}

/**
 * The consumer-group side of the worker. Every partition batch kafkajs fetches is checked record
 * by record (bad ones to the dead-letter topic), its rows join the shared Batcher so rows of all
 * partitions are written together, and the partition's offset is committed only once its rows are
 * durable. A crash anywhere before the commit replays the records; the store's dedupe key makes
 * the replay insert nothing.
 */
export class IngestConsumer {
  private readonly consumer: Consumer;
  private readonly batcher: Batcher<PendingRow>;
  private assigned = new Set<string>();
  private joinedOnce = false;
  private failure: Error | undefined;

  constructor(private readonly deps: IngestConsumerDeps) {
    const { config } = deps;
    this.consumer = deps.kafka.consumer({
      groupId: config.groupId,
      sessionTimeout: config.sessionTimeoutMs,
      heartbeatInterval: Math.max(500, Math.floor(config.sessionTimeoutMs / 10)),
      // The broker holds a fetch until this much data is there or the wait is over: batching by
      // size and time starts at the source.
      minBytes: config.fetchMinBytes,
      maxWaitTimeInMs: config.batchMaxWaitMs,
      allowAutoTopicCreation: false,
    });
    this.batcher = new Batcher((rows) => deps.writer.write(rows), {
      maxItems: config.batchMaxRows,
      maxWaitMs: config.batchMaxWaitMs,
    });
    const { events } = this.consumer;
    this.consumer.on(events.GROUP_JOIN, ({ payload }) => {
      this.joinedOnce = true;
      deps.metrics.rebalances.inc();
      const now = new Set<string>();
      for (const [topic, partitions] of Object.entries(payload.memberAssignment)) {
        for (const partition of partitions) now.add(`${topic}|${partition}`);
      }
      for (const key of this.assigned) {
        if (now.has(key)) continue;
        const [topic, partition] = key.split('|') as [string, string];
        deps.metrics.consumerLag.remove({ topic, partition });
      }
      this.assigned = now;
      deps.metrics.assignedPartitions.set(now.size);
      deps.logger.info(
        { memberId: payload.memberId, assignment: payload.memberAssignment },
        'joined consumer group',
      );
    });
    this.consumer.on(events.CRASH, ({ payload }) => {
      deps.logger.error({ err: payload.error, restart: payload.restart }, 'consumer crashed');
      if (!payload.restart) {
        this.failure = payload.error;
        deps.onFatal(payload.error);
      }
    });
  }

  /** Joined the group at least once and not failed. */
  get ready(): boolean {
    return this.joinedOnce && this.failure === undefined;
  }

  /** Partitions currently assigned, as `topic|partition`. */
  get assignment(): ReadonlySet<string> {
    return this.assigned;
  }

  async start(): Promise<void> {
    const { config } = this.deps;
    await this.consumer.connect();
    // From the beginning for a new group: records produced before the group existed are kept too.
    await this.consumer.subscribe({ topics: [config.topic], fromBeginning: true });
    await this.consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: config.partitionsConcurrency,
      eachBatch: (payload) => this.handleBatch(payload),
    });
  }

  /**
   * Finishes the batches in hand (written and committed), then leaves the group so its
   * partitions move to the other workers at once instead of after a session timeout.
   */
  async stop(): Promise<void> {
    await this.consumer.disconnect();
    this.deps.metrics.assignedPartitions.set(0);
  }

  /** Fails whatever still waits to be written (the shutdown deadline passed). */
  abort(): void {
    this.batcher.close();
  }

  private async handleBatch(payload: EachBatchPayload): Promise<void> {
    const { batch, heartbeat, isStale, resolveOffset, commitOffsetsIfNecessary } = payload;
    if (batch.messages.length === 0 || isStale()) return;
    const { config, metrics, logger, retentionDays } = this.deps;
    this.batcher.begin();
    let submitted = false;
    try {
      const now = Date.now();
      const limits = {
        maxRecordBytes: config.maxRecordBytes,
        maxFutureSkewMs: config.maxFutureSkewMs,
        oldestTs: dayStart(now) - retentionDays * DAY_MS,
        now,
      };
      const rows: PendingRow[] = [];
      const letters: DeadLetter[] = [];
      for (const message of batch.messages) {
        const source = {
          topic: batch.topic,
          partition: batch.partition,
          offset: message.offset,
          key: message.key,
          value: message.value,
        };
        const checked = checkRecord(message.value, limits);
        if (checked.ok) rows.push({ row: toRow(checked.record), source });
        else letters.push({ source, reason: checked.reason, message: checked.message });
      }
      if (letters.length > 0) {
        logger.warn(
          {
            topic: batch.topic,
            partition: batch.partition,
            records: letters.map((l) => ({
              offset: l.source.offset,
              reason: l.reason,
              message: l.message,
            })),
          },
          'records sent to the dead-letter topic',
        );
        await this.deps.dlq.send(letters);
      }
      submitted = true;
      await this.whileHeartbeating(this.batcher.submit(rows), heartbeat);
    } catch (error) {
      if (!submitted) this.batcher.abandon();
      throw error;
    }

    const next = (BigInt(batch.lastOffset()) + 1n).toString();
    resolveOffset(batch.lastOffset());
    try {
      await commitOffsetsIfNecessary({
        topics: [
          { topic: batch.topic, partitions: [{ partition: batch.partition, offset: next }] },
        ],
      });
    } catch (error) {
      // Lost the partition to a rebalance: its new owner replays these records, which insert
      // nothing. kafkajs handles the error by rejoining the group.
      metrics.commits.inc({ outcome: 'refused' });
      logger.info(
        { topic: batch.topic, partition: batch.partition, offset: next, err: error },
        'offset commit refused; the records will be replayed by the partition owner',
      );
      throw error;
    }
    metrics.commits.inc({ outcome: 'ok' });
    metrics.recordsConsumed.inc(batch.messages.length);
    const lag = BigInt(batch.highWatermark) - BigInt(next);
    metrics.consumerLag.set(
      { topic: batch.topic, partition: String(batch.partition) },
      Number(lag > 0n ? lag : 0n),
    );
  }

  /** Waits for `work`, heartbeating meanwhile; a refused heartbeat (rebalance) does not stop it. */
  private async whileHeartbeating(
    work: Promise<void>,
    heartbeat: () => Promise<void>,
  ): Promise<void> {
    let done = false;
    const finished = work.finally(() => (done = true));
    while (!done) {
      let timer: NodeJS.Timeout | undefined;
      const tick = new Promise<void>(
        (resolve) => (timer = setTimeout(resolve, HEARTBEAT_EVERY_MS)),
      );
      await Promise.race([finished.catch(() => undefined), tick]);
      clearTimeout(timer);
      if (!done) await heartbeat().catch(() => undefined);
    }
    await finished;
  }
}

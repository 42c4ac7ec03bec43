import type { Consumer, ConsumerRunConfig, EachBatchPayload, Kafka } from 'kafkajs';

import { KafkaHealthProbe } from './kafka-health-probe.js';
import { isOutageCrash } from './kafka-transient-crash.js';
import {
  LogReaderError,
  partitionKey,
  type LogPartition,
  type LogPosition,
  type LogReaderHandler,
  type TelemetryLogReader,
} from './log-reader.js';

export interface KafkaLogReaderOptions {
  /**
   * The kafkajs client (its logging is the caller's). Give it `retry: LOG_READER_RETRY`: its
   * retry decides how soon a consumer that crashed while the broker was away tries again.
   */
  kafka: Kafka;
  topic: string;
  groupId: string;
  /** Group session timeout; heartbeats go at a tenth of it. */
  sessionTimeoutMs: number;
  /**
   * How long a rebalance waits for the group's members to join again (default 3000 ms). It also
   * bounds how long the group waits for members that crashed while the broker was away: see
   * DEFAULT_REBALANCE_TIMEOUT_MS.
   */
  rebalanceTimeoutMs?: number;
  /** The broker answers a fetch once this much is there, or after `maxWaitMs`. */
  fetchMinBytes: number;
  maxWaitMs: number;
  /** Partitions handled at once. */
  partitionsConcurrency: number;
  /** How often the group hears from a handler still working on a batch (default 1000 ms). */
  heartbeatEveryMs?: number;
  /**
   * How often the brokers are probed (a metadata request); two failed probes in a row make the
   * reader not ready at once, instead of after kafkajs's own retries end in a crash (tens of
   * seconds). Default 500 ms.
   */
  probeIntervalMs?: number;
}

/**
 * After a broker restart the group coordinator loads the group with the members it had, and a
 * consumer that crashed meanwhile (kafkajs crashes at once when the broker goes, and restarts as
 * a new member) is let in only when those old members rejoined, which they never will, or were
 * dropped: after the session timeout or the rebalance timeout, whichever comes first. With
 * kafkajs's 60 s rebalance timeout the session timeout (10 s) decided: consumption came back
 * 10–14 s after the broker. In a real rebalance a member of this reader rejoins within about a
 * second (a heartbeat every second sees it, the batch in hand is revoked at once), so 3 s is
 * enough for it and brings the wait after a broker restart to 3–5 s. A member that misses it
 * (an event loop blocked for seconds) is dropped from that generation and joins again: one more
 * rebalance, nothing lost (its uncommitted records are read again).
 */
export const DEFAULT_REBALANCE_TIMEOUT_MS = 3_000;

/**
 * The retry of the reader's consumer, and the one to give the `Kafka` client it is built on:
 * kafkajs connects to the brokers with the client's retry and restarts a crashed consumer after
 * the last retry's delay, up to 30 s with its defaults (seen: 10.6 s), so the broker could be back
 * for that long before anyone tried. Capped at 1 s, a consumer tries at least once a second; 8
 * retries give up (crash, restart) after ~7 s of failures, about as long as the defaults' 5
 * before their long waits.
 */
export const LOG_READER_RETRY = { initialRetryTime: 250, maxRetryTime: 1_000, retries: 8 };

/** How long after a crash kafkajs gave up on (an outage) the reader runs its consumer again. */
const OUTAGE_RESTART_MS = 1_000;

/** A batch in hand: how to commit it, and how to revoke it. */
interface InHand {
  payload: EachBatchPayload;
  revoke: AbortController;
}

/** Rebalance errors: the eager protocol takes every partition of this member away. */
const REVOKING = new Set([
  'REBALANCE_IN_PROGRESS',
  'ILLEGAL_GENERATION',
  'UNKNOWN_MEMBER_ID',
  'NOT_COORDINATOR_FOR_GROUP',
]);

function revokedError(why: string): LogReaderError {
  return new LogReaderError('LOG_COMMIT_REFUSED', `partition revoked: ${why}`);
}

/**
 * The telemetry topic through a kafkajs consumer group: `eachBatch` without auto-commit or
 * auto-resolve, so an offset moves only on `commit` (the broker's committed offset and the
 * fetch position both). A new group starts from the earliest offset. While a handler works, the
 * group is heartbeated; a rebalance seen then revokes the batch (its signal aborts) so the
 * rebalance is not held up by a slow write, and the records go to the partition's next owner.
 */
export class KafkaLogReader implements TelemetryLogReader {
  private readonly consumer: Consumer;
  private readonly inHand = new Map<string, InHand>();
  private handler: LogReaderHandler | undefined;
  private assigned: LogPartition[] = [];
  private joined = false;
  /** Why the consumer is not in its group now (crashed and restarting, rebalancing, …). */
  private outOfGroup: string | undefined = 'not joined yet';
  private failure: Error | undefined;
  private stopped = false;
  private aborted = false;
  private readonly probe: KafkaHealthProbe;
  private runConfig: ConsumerRunConfig | undefined;
  private restartTimer: NodeJS.Timeout | undefined;

  constructor(private readonly options: KafkaLogReaderOptions) {
    this.consumer = options.kafka.consumer({
      groupId: options.groupId,
      sessionTimeout: options.sessionTimeoutMs,
      rebalanceTimeout: options.rebalanceTimeoutMs ?? DEFAULT_REBALANCE_TIMEOUT_MS,
      retry: LOG_READER_RETRY,
      heartbeatInterval: Math.max(500, Math.floor(options.sessionTimeoutMs / 10)),
      // The broker holds a fetch until this much data is there or the wait is over: batching by
      // size and time starts at the source.
      minBytes: options.fetchMinBytes,
      maxWaitTimeInMs: options.maxWaitMs,
      allowAutoTopicCreation: false,
    });
    const probeMs = options.probeIntervalMs ?? 500;
    this.probe = new KafkaHealthProbe({
      kafka: options.kafka,
      topic: options.topic,
      intervalMs: probeMs,
      timeoutMs: Math.max(250, Math.floor(probeMs * 1.5)),
      failuresToDown: 2,
      onChange: () => undefined,
    });
    const { events } = this.consumer;
    this.consumer.on(events.REBALANCING, () => (this.outOfGroup = 'rebalancing'));
    this.consumer.on(events.STOP, () => (this.outOfGroup = 'consumer stopped'));
    this.consumer.on(events.GROUP_JOIN, ({ payload }) => {
      this.joined = true;
      this.outOfGroup = undefined;
      const now = Object.entries(payload.memberAssignment).flatMap(([topic, partitions]) =>
        partitions.map((partition) => ({ topic, partition })),
      );
      const held = new Set(now.map(partitionKey));
      const revoked = this.assigned.filter((p) => !held.has(partitionKey(p)));
      for (const partition of revoked) this.revoke(partitionKey(partition), 'assigned elsewhere');
      this.assigned = now;
      this.handler?.assigned?.({ partitions: now, revoked, memberId: payload.memberId });
    });
    // kafkajs restarts a crashed consumer by itself, which can take a long time with the broker
    // gone: until it joins again it consumes nothing, so it is not ready, whatever the restart.
    this.consumer.on(events.CRASH, ({ payload }) => {
      // An outage kafkajs gives up on (isOutageCrash) is restarted here, a second later.
      const ours = !payload.restart && !this.stopped && isOutageCrash(payload.error);
      const restarting = payload.restart || ours;
      this.outOfGroup = `consumer crashed (${payload.error.message}); ${restarting ? 'restarting' : 'not restarting'}`;
      if (!restarting) this.failure = payload.error;
      if (ours) this.restartLater();
      this.handler?.crashed?.(payload.error, restarting);
    });
  }

  get ready(): boolean {
    return (
      this.joined &&
      this.outOfGroup === undefined &&
      this.failure === undefined &&
      !this.stopped &&
      this.probe.isUp
    );
  }

  /** Why `ready` is false. */
  get notReadyBecause(): string | undefined {
    if (this.stopped) return 'stopped';
    if (this.failure) return `consumer failed for good: ${this.failure.message}`;
    return this.outOfGroup ?? this.probe.reason;
  }

  /** Joins the group; resolves once it has (the first assignment was reported). */
  async start(handler: LogReaderHandler): Promise<void> {
    if (this.handler) throw new LogReaderError('LOG_READER_STARTED', 'the reader was started');
    this.handler = handler;
    this.probe.start();
    await this.consumer.connect();
    // From the beginning for a new group: records produced before the group existed are kept too.
    await this.consumer.subscribe({ topics: [this.options.topic], fromBeginning: true });
    this.runConfig = {
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: this.options.partitionsConcurrency,
      eachBatch: (payload) => this.handle(payload, handler),
    };
    await this.consumer.run(this.runConfig);
  }

  /** Runs the consumer again after a crash kafkajs does not restart (it disconnected already). */
  private restartLater(): void {
    clearTimeout(this.restartTimer);
    this.restartTimer = setTimeout(() => {
      if (this.stopped || !this.runConfig) return;
      // A failure to start is a crash event again, and comes back here.
      this.consumer.run(this.runConfig).catch(() => this.restartLater());
    }, OUTAGE_RESTART_MS);
  }

  async commit(position: LogPosition): Promise<void> {
    const { topic, partition, offset } = position;
    const held = this.inHand.get(partitionKey(position));
    if (!held) throw new LogReaderError('LOG_COMMIT_REFUSED', 'no batch of the partition in hand');
    if (held.revoke.signal.aborted) throw held.revoke.signal.reason as Error;
    try {
      // Through the batch's own payload: it commits during a shutdown too (the consumer's
      // commitOffsets does nothing once the consumer is stopping).
      await held.payload.commitOffsetsIfNecessary({
        topics: [{ topic, partitions: [{ partition, offset }] }],
      });
    } catch (cause) {
      // Lost to a rebalance: the partition's new owner reads these records again.
      throw new LogReaderError('LOG_COMMIT_REFUSED', `offset commit refused: ${String(cause)}`, {
        cause,
      });
    }
    // The fetch position follows: the next batch of the partition starts here.
    held.payload.resolveOffset((BigInt(offset) - 1n).toString());
  }

  /** Finishes the batches in hand (handled, committed), then leaves the group. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.restartTimer);
    await this.probe.stop();
    await this.consumer.disconnect();
    this.assigned = [];
  }

  abort(): void {
    this.aborted = true;
    for (const key of this.inHand.keys()) this.revoke(key, 'the reader was aborted');
  }

  private revoke(key: string, why: string): void {
    const held = this.inHand.get(key);
    if (held && !held.revoke.signal.aborted) held.revoke.abort(revokedError(why));
  }

  private async handle(payload: EachBatchPayload, handler: LogReaderHandler): Promise<void> {
    const { batch, isStale } = payload;
    if (batch.messages.length === 0 || isStale() || this.aborted) return;
    const key = partitionKey(batch);
    const revoke = new AbortController();
    this.inHand.set(key, { payload, revoke });
    try {
      const work = handler.batch({
        topic: batch.topic,
        partition: batch.partition,
        records: batch.messages.map((m) => ({
          topic: batch.topic,
          partition: batch.partition,
          offset: m.offset,
          key: m.key,
          value: m.value,
        })),
        next: {
          topic: batch.topic,
          partition: batch.partition,
          offset: (BigInt(batch.lastOffset()) + 1n).toString(),
        },
        highWatermark: batch.highWatermark,
        signal: revoke.signal,
      });
      await this.whileHeartbeating(work, payload, key);
    } finally {
      this.inHand.delete(key);
    }
  }

  /**
   * Waits for `work`, heartbeating meanwhile. A heartbeat refused because the group rebalances
   * (or dropped this member) revokes the batch; other heartbeat failures do not stop the work.
   */
  private async whileHeartbeating(
    work: Promise<void>,
    payload: EachBatchPayload,
    key: string,
  ): Promise<void> {
    let done = false;
    const finished = work.finally(() => (done = true));
    const every = this.options.heartbeatEveryMs ?? 1_000;
    while (!done) {
      let timer: NodeJS.Timeout | undefined;
      const tick = new Promise<void>((resolve) => (timer = setTimeout(resolve, every)));
      await Promise.race([finished.catch(() => undefined), tick]);
      clearTimeout(timer);
      if (done) break;
      if (payload.isStale()) this.revoke(key, 'the partition was sought elsewhere');
      try {
        await payload.heartbeat();
      } catch (error) {
        const type = (error as { type?: unknown }).type;
        if (typeof type === 'string' && REVOKING.has(type)) this.revoke(key, type);
      }
    }
    await finished;
  }
}

import type { TokenVerifier } from '@fleetwire/auth';
import type { Registry } from '@fleetwire/metrics';
import { TelemetryStore, migrate, openSqlClient, type SqlClient } from '@fleetwire/store';
import {
  KafkaLagProbe,
  KafkaLogReader,
  LOG_READER_RETRY,
  kafkaLogCreator,
} from '@fleetwire/telemetry-log';
import { Kafka, Partitioners, logLevel, type Producer } from 'kafkajs';
import type { Logger } from 'pino';

import { ReadApi } from './api.js';
import { BatchWriter } from './batch-writer.js';
import type { IngestConfig } from './config.js';
import { KafkaDeadLetterSink } from './kafka-dead-letter-sink.js';
import { IngestHttpServer, type Readiness } from './http-server.js';
import { PartitionMaintenance } from './maintenance.js';
import { IngestMetrics } from './metrics.js';
import { IngestPipeline } from './pipeline.js';
import { within } from './within.js';

export interface IngestWorkerDeps {
  config: IngestConfig;
  verifier: TokenVerifier;
  registry: Registry;
  logger: Logger;
  /** The consumer stopped for good; the process should exit so it gets restarted. */
  onFatal?: (error: Error) => void;
}

export class IngestStartError extends Error {
  override readonly name = 'IngestStartError';
  constructor(
    readonly code: 'INGEST_NO_BROKERS',
    message: string,
  ) {
    super(message);
  }
}

/** How long /readyz waits for the store's `select 1`. */
const READINESS_PROBE_TIMEOUT_MS = 2_000;
/** How often lag is measured at the broker (committed vs high-water offsets). */
const LAG_PROBE_INTERVAL_MS = 5_000;
/** After the shutdown deadline: how long the consumer and the connections get to close. */
const CLOSE_GRACE_MS = 5_000;

/** kafkajs logs through pino, one level lower: its INFO lines are routine. */
function kafkaLogger(logger: Logger) {
  const child = logger.child({ component: 'kafkajs' });
  return kafkaLogCreator({
    error: (details, message) => child.error(details, message),
    warn: (details, message) => child.warn(details, message),
    debug: (details, message) => child.debug(details, message),
  });
}

/**
 * One ingest process: migrations, partition upkeep, the ingest pipeline reading the telemetry
 * topic as a consumer group into the store, and the HTTP server (health, readiness, metrics, read
 * API).
 */
export class IngestWorker {
  private stopping: Promise<void> | undefined;

  private constructor(
    private readonly deps: IngestWorkerDeps,
    private readonly client: SqlClient,
    private readonly producer: Producer,
    private readonly pipeline: IngestPipeline,
    private readonly maintenance: PartitionMaintenance,
    private readonly http: IngestHttpServer,
    readonly metrics: IngestMetrics,
    readonly port: number,
    private readonly reader: KafkaLogReader,
    private readonly lag: KafkaLagProbe,
  ) {}

  static async start(deps: IngestWorkerDeps): Promise<IngestWorker> {
    const { config, logger } = deps;
    const consumerConfig = config.consumer;
    if (!consumerConfig) {
      throw new IngestStartError('INGEST_NO_BROKERS', 'FLEETWIRE_KAFKA_BROKERS is required to run');
    }
    const metrics = new IngestMetrics(deps.registry);
    const client = await openSqlClient(config.store.databaseUrl, {
      poolSize: config.store.poolSize,
      applicationName: `fleetwire-ingest-${config.nodeId}`.slice(0, 63),
      statementTimeoutMs: config.store.statementTimeoutMs,
    });
    try {
      const applied = await migrate(client);
      logger.info({ applied }, 'migrations applied');
      const store = new TelemetryStore(client);
      const maintenance = new PartitionMaintenance(
        store,
        {
          aheadDays: config.store.partitionsAheadDays,
          retentionDays: config.store.retentionDays,
          intervalMs: config.store.maintenanceIntervalMs,
        },
        metrics,
        logger,
      );
      await maintenance.runOnce();

      // One log creator for both clients: a failure both see is counted once per interval.
      const logCreator = kafkaLogger(logger);
      const kafkaClient = { clientId: consumerConfig.clientId, brokers: consumerConfig.brokers };
      const kafka = new Kafka({ ...kafkaClient, logLevel: logLevel.INFO, logCreator });
      // The consumer's own client: its connections (after a crash too) are retried at least once
      // a second, so a restarted broker is found within about a second, not after kafkajs's
      // ~10 s backoff. The producer keeps kafkajs's retry.
      const readerKafka = new Kafka({
        ...kafkaClient,
        logLevel: logLevel.INFO,
        logCreator,
        retry: LOG_READER_RETRY,
      });
      const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
      await producer.connect();
      const deadLetters = new KafkaDeadLetterSink(producer, consumerConfig.dlqTopic, {
        maxSendBytes: consumerConfig.dlqMaxSendBytes,
        logger,
      });
      let fatal: (error: Error) => void = () => undefined;
      const reader = new KafkaLogReader({
        kafka: readerKafka,
        topic: consumerConfig.topic,
        groupId: consumerConfig.groupId,
        sessionTimeoutMs: consumerConfig.sessionTimeoutMs,
        rebalanceTimeoutMs: consumerConfig.rebalanceTimeoutMs,
        fetchMinBytes: consumerConfig.fetchMinBytes,
        maxWaitMs: consumerConfig.batchMaxWaitMs,
        partitionsConcurrency: consumerConfig.partitionsConcurrency,
      });
      const pipeline = new IngestPipeline({
        reader,
        writer: new BatchWriter({
          store,
          dlq: deadLetters,
          metrics,
          logger,
          stuckAfterMs: config.writeStuckAfterMs,
        }),
        deadLetters,
        metrics,
        logger,
        policy: {
          maxRecordBytes: consumerConfig.maxRecordBytes,
          maxFutureSkewMs: consumerConfig.maxFutureSkewMs,
          retentionDays: config.store.retentionDays,
        },
        maxRows: consumerConfig.batchMaxRows,
        maxWaitMs: consumerConfig.batchMaxWaitMs,
        stuckAfterMs: config.writeStuckAfterMs,
        onFatal: (error) => fatal(error),
      });
      const api = new ReadApi({ store, verifier: deps.verifier, config: config.api });
      let readiness: () => Promise<Readiness> = async () => ({ ready: false, checks: {} });
      const http = new IngestHttpServer({
        api,
        registry: deps.registry,
        metrics,
        logger,
        readiness: () => readiness(),
      });
      const port = await http.listen(config.host, config.port);
      // Lag from the broker, for the partitions this worker holds: it rises while nothing is
      // consumed (a crashed consumer), unlike the lag seen in the last batch.
      const topic = consumerConfig.topic;
      const lag = new KafkaLagProbe({
        kafka,
        topic,
        groupId: consumerConfig.groupId,
        intervalMs: LAG_PROBE_INTERVAL_MS,
        onLag: (partition, value) => {
          if (!pipeline.assignment.has(`${topic}|${partition}`)) return;
          metrics.consumerLag.set({ topic, partition: String(partition) }, value);
        },
      });
      const worker = new IngestWorker(
        deps,
        client,
        producer,
        pipeline,
        maintenance,
        http,
        metrics,
        port,
        reader,
        lag,
      );
      readiness = () => worker.readiness();
      fatal = (error) => deps.onFatal?.(error);
      logger.info({ host: config.host, port }, 'listening');
      await pipeline.start();
      maintenance.start();
      lag.start();
      return worker;
    } catch (error) {
      await client.close().catch(() => undefined);
      throw error;
    }
  }

  /** Partitions of the telemetry topic this worker holds, as `topic|partition`. */
  get assignment(): ReadonlySet<string> {
    return this.pipeline.assignment;
  }

  async readiness(): Promise<Readiness> {
    const pipeline = this.pipeline.readiness();
    const checks = {
      store: await this.storeAnswers(),
      consumer: pipeline.reader,
      running: this.stopping === undefined,
      writer: pipeline.writer,
    };
    const reasons = [
      ...(checks.consumer
        ? []
        : [`consumer: ${this.reader.notReadyBecause ?? 'not in its group'}`]),
      ...(pipeline.reason === undefined ? [] : [pipeline.reason]),
    ];
    return {
      ready: Object.values(checks).every(Boolean),
      checks,
      ...(reasons.length === 0 ? {} : { reason: reasons.join('; ') }),
    };
  }

  /** `select 1` within a bound: a store that hangs is as unready as one that fails. */
  private async storeAnswers(): Promise<boolean> {
    if (this.client.healthy === false) return false;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), READINESS_PROBE_TIMEOUT_MS);
    });
    const answered = this.client
      .query('select 1')
      .then(() => true)
      .catch(() => false);
    const result = await Promise.race([answered, timeout]);
    clearTimeout(timer);
    return result;
  }

  /**
   * Graceful stop: not ready, finish the batch in hand (written, committed), leave the group, close.
   * Past the shutdown timeout the unwritten rest is abandoned uncommitted (replayed later).
   */
  stop(): Promise<void> {
    this.stopping ??= this.shutdown();
    return this.stopping;
  }

  private async shutdown(): Promise<void> {
    const { logger, config } = this.deps;
    logger.info('stopping');
    const deadline = Date.now() + config.shutdownTimeoutMs;
    await within(this.maintenance.stop(), config.shutdownTimeoutMs);
    await within(this.lag.stop(), config.shutdownTimeoutMs);
    // Closing is bounded too: a statement that never returns holds its connection, and a pool
    // (or PGlite) waits for it when closed.
    const grace = Math.min(CLOSE_GRACE_MS, config.shutdownTimeoutMs);
    // Past the deadline the write in hand fails at once (even one whose statement never
    // returns), so no offset of an unwritten record is committed.
    if (await this.pipeline.stop(deadline - Date.now(), grace)) {
      logger.info('left the consumer group');
    }
    const closed = await within(
      Promise.allSettled([this.producer.disconnect(), this.http.close(), this.client.close()]),
      grace,
    );
    if (closed === 'timeout') logger.warn({ graceMs: grace }, 'closing timed out; exiting anyway');
    logger.info('stopped');
  }
}

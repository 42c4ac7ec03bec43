import type { TokenVerifier } from '@fleetwire/auth';
import type { Registry } from '@fleetwire/metrics';
import { TelemetryStore, migrate, openSqlClient, type SqlClient } from '@fleetwire/store';
import { Kafka, Partitioners, logLevel, type LogEntry, type Producer } from 'kafkajs';
import type { Logger } from 'pino';

import { ReadApi } from './api.js';
import { BatchWriter } from './batch-writer.js';
import type { IngestConfig } from './config.js';
import { IngestConsumer } from './consumer.js';
import { DeadLetterQueue } from './dead-letter.js';
import { IngestHttpServer, type Readiness } from './http-server.js';
import { PartitionMaintenance } from './maintenance.js';
import { IngestMetrics } from './metrics.js';

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

/** kafkajs logs through pino, one level lower: its INFO lines are routine. */
function kafkaLogger(logger: Logger) {
  const child = logger.child({ component: 'kafkajs' });
  return () =>
    ({ level, log }: LogEntry) => {
      const { message, ...extra } = log;
      if (level === logLevel.ERROR) child.error(extra, message);
      else if (level === logLevel.WARN) child.warn(extra, message);
      else child.debug(extra, message);
    };
}

/**
 * One ingest process: migrations, partition upkeep, the consumer group writing Kafka into the
 * store, and the HTTP server (health, readiness, metrics, read API).
 */
export class IngestWorker {
  private stopping: Promise<void> | undefined;

  private constructor(
    private readonly deps: IngestWorkerDeps,
    private readonly client: SqlClient,
    private readonly producer: Producer,
    private readonly writer: BatchWriter,
    private readonly consumer: IngestConsumer,
    private readonly maintenance: PartitionMaintenance,
    private readonly http: IngestHttpServer,
    readonly metrics: IngestMetrics,
    readonly port: number,
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

      const kafka = new Kafka({
        clientId: consumerConfig.clientId,
        brokers: consumerConfig.brokers,
        logLevel: logLevel.INFO,
        logCreator: kafkaLogger(logger),
      });
      const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
      await producer.connect();
      const dlq = new DeadLetterQueue(producer, consumerConfig.dlqTopic, metrics);
      const writer = new BatchWriter({ store, dlq, metrics, logger });
      let fatal: (error: Error) => void = () => undefined;
      const consumer = new IngestConsumer({
        kafka,
        config: consumerConfig,
        retentionDays: config.store.retentionDays,
        writer,
        dlq,
        metrics,
        logger,
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
      const worker = new IngestWorker(
        deps,
        client,
        producer,
        writer,
        consumer,
        maintenance,
        http,
        metrics,
        port,
      );
      readiness = () => worker.readiness();
      fatal = (error) => deps.onFatal?.(error);
      logger.info({ host: config.host, port }, 'listening');
      await consumer.start();
      maintenance.start();
      return worker;
    } catch (error) {
      await client.close().catch(() => undefined);
      throw error;
    }
  }

  /** Partitions of the telemetry topic this worker holds, as `topic|partition`. */
  get assignment(): ReadonlySet<string> {
    return this.consumer.assignment;
  }

  async readiness(): Promise<Readiness> {
    const store = await this.client
      .query('select 1')
      .then(() => true)
      .catch(() => false);
    const checks = {
      store,
      consumer: this.consumer.ready,
      running: this.stopping === undefined,
    };
    return { ready: Object.values(checks).every(Boolean), checks };
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
    await this.maintenance.stop();
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), config.shutdownTimeoutMs);
    });
    const stopped = this.consumer.stop().then(() => 'stopped' as const);
    const outcome = await Promise.race([stopped, deadline]);
    clearTimeout(timer);
    if (outcome === 'timeout') {
      logger.warn(
        { timeoutMs: config.shutdownTimeoutMs },
        'shutdown timed out; abandoning the batch',
      );
      this.writer.stop();
      this.consumer.abort();
      await stopped.catch(() => undefined);
    } else {
      logger.info('left the consumer group');
    }
    await this.producer.disconnect();
    await this.http.close();
    await this.client.close();
    logger.info('stopped');
  }
}

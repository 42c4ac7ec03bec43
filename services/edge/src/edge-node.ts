import { createTokenVerifier } from '@fleetwire/auth';
import { RedisClusterBus, RedisPresence, clusterNodes, type Bus } from '@fleetwire/bus';
import { createRegistry } from '@fleetwire/metrics';
import { SqlDeviceStateStore, openSqlClient } from '@fleetwire/store';
import { KafkaTelemetryLog, TelemetryLogMetrics } from '@fleetwire/telemetry-log';
import type { Logger } from 'pino';

import type { EdgeConfig } from './config.js';
import { registerInterestMetrics } from './interest-metrics.js';
import { EdgeMetrics } from './metrics.js';
import { EdgeServer } from './server.js';
import type { Uws } from './uws.js';

export interface EdgeNodeOptions {
  uws: Uws;
  logger: Logger;
  /** The node's bus (Redis, or a worker's FabricBus); absent: a single node. */
  bus?: Bus;
  /** The `node` label of the metrics: the process's node id, the same for all its workers. */
  metricsNode: string;
  /** What `/metrics` answers; default: this node's own registry (see EdgeServerDeps). */
  metricsText?: () => Promise<string>;
}

export interface EdgeNode {
  server: EdgeServer;
  metrics: EdgeMetrics;
  port: number;
  /** Drains (or, with `immediately`, closes) the server, then closes its adapters. */
  stop(options?: { immediately?: boolean }): Promise<void>;
}

/**
 * One edge node from its config: the adapters it names (token keys, presence, Kafka, the state
 * database) and the server on them, listening. main.ts runs one; with FLEETWIRE_WORKERS > 1 each
 * worker thread runs one (workers/worker-main.ts).
 */
export async function startEdgeNode(
  config: EdgeConfig,
  options: EdgeNodeOptions,
): Promise<EdgeNode> {
  const { uws, logger, bus } = options;
  // JWKS URLs are fetched once here; an issuer whose endpoint is down gets 503s until it answers.
  const verifier = await createTokenVerifier(config.auth, {
    logger: logger.child({ component: 'auth' }),
  });
  if (!verifier.ready) {
    logger.warn(verifier.status(), 'starting without the keys of some issuers');
  }
  const registry = createRegistry({ service: 'edge', node: options.metricsNode });
  const metrics = new EdgeMetrics(registry);
  // A worker's bus is the process's fabric: the supervisor reports the cluster bus's counters.
  if (bus instanceof RedisClusterBus) registerInterestMetrics(registry, () => bus.stats());

  // On the cluster unless FLEETWIRE_REDIS_URL is set too (presence stays where it was).
  const presence = config.redis
    ? await RedisPresence.connect({
        url: config.redis.url,
        prefix: config.redis.prefix,
        ttlMs: config.presenceTtlMs,
        maxDevicesPerTenant: config.maxDevicesPerTenant,
        replyTimeoutMs: config.redis.replyTimeoutMs,
      })
    : config.redisCluster
      ? await RedisPresence.connect({
          nodes: clusterNodes(config.redisCluster.nodes),
          prefix: config.redisCluster.prefix,
          ttlMs: config.presenceTtlMs,
          maxDevicesPerTenant: config.maxDevicesPerTenant,
          replyTimeoutMs: config.redisCluster.replyTimeoutMs,
        })
      : undefined;
  const telemetryLog = config.kafka
    ? await KafkaTelemetryLog.connect({
        brokers: config.kafka.brokers,
        topic: config.kafka.topic,
        clientId: `fleetwire-edge-${config.nodeId}`,
        maxBatch: config.kafka.maxBatch,
        lingerMs: config.kafka.lingerMs,
        maxBuffered: config.kafka.maxBuffered,
        sendTimeoutMs: config.kafka.sendTimeoutMs,
        metrics: new TelemetryLogMetrics(registry),
        logger: logger.child({ component: 'kafka' }),
      })
    : undefined;
  if (!telemetryLog)
    logger.warn('no FLEETWIRE_KAFKA_BROKERS: telemetry is acked without a durable log');

  // The migrations are the ingest's job (its migrate command): the edge only reads and writes.
  const database = config.database
    ? await openSqlClient(config.database.url, {
        poolSize: config.database.poolSize,
        applicationName: `fleetwire-edge-${config.nodeId}`,
        // A state read or write is one row: a database that takes longer is answered 503.
        statementTimeoutMs: 5_000,
        // PGlite (a development setup) runs beside the sockets' thread, not on it.
        ownThread: true,
      })
    : undefined;
  if (!database) logger.warn('no FLEETWIRE_DATABASE_URL: this node keeps no device state');

  const server = new EdgeServer({
    config,
    uws,
    verifier,
    metrics,
    logger,
    ...(bus ? { bus } : {}),
    ...(presence ? { presence } : {}),
    ...(telemetryLog ? { telemetrySink: telemetryLog } : {}),
    ...(database ? { deviceState: new SqlDeviceStateStore(database) } : {}),
    ...(options.metricsText ? { metricsText: options.metricsText } : {}),
  });
  const port = await server.listen();
  return {
    server,
    metrics,
    port,
    stop: async ({ immediately = false } = {}) => {
      await (immediately ? server.closeNow() : server.drain());
      verifier.close();
      await Promise.allSettled([
        telemetryLog?.close(),
        bus?.close(),
        presence?.close(),
        database?.close(),
      ]);
    },
  };
}

import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';

import { createTokenVerifier } from '@fleetwire/auth';
import { exitOnStartupFailure, stopOnSignals } from '@fleetwire/config';
import { RedisBus, RedisClusterBus, RedisPresence, clusterNodes } from '@fleetwire/bus';
import { createRegistry } from '@fleetwire/metrics';
import { SqlDeviceStateStore, openSqlClient } from '@fleetwire/store';
import { KafkaTelemetryLog, TelemetryLogMetrics } from '@fleetwire/telemetry-log';
import { pino } from 'pino';

import { loadEdgeConfig } from './config.js';
import { EdgeMetrics } from './metrics.js';
import { EdgeServer } from './server.js';
import { loadUws } from './uws.js';

async function main(): Promise<void> {
  const config = loadEdgeConfig(process.env, `${hostname()}-${process.pid}`);
  const logger = pino({ level: config.logLevel, base: { service: 'edge', node: config.nodeId } });
  const { uws, native } = loadUws({ allowFallback: config.allowUwsFallback });
  if (!native)
    logger.warn('running on the slow pure-JS uWebSockets.js fallback (allowed by config)');
  // JWKS URLs are fetched once here; an issuer whose endpoint is down gets 503s until it answers.
  const verifier = await createTokenVerifier(config.auth, {
    logger: logger.child({ component: 'auth' }),
  });
  if (!verifier.ready) {
    logger.warn(verifier.status(), 'starting without the keys of some issuers');
  }
  const registry = createRegistry({ service: 'edge', node: config.nodeId });
  const metrics = new EdgeMetrics(registry);

  // The bus id is unique per process, even if two processes were given the same node id.
  const busNodeId = `${config.nodeId}-${randomUUID().slice(0, 8)}`;
  const bus = config.redisCluster
    ? await RedisClusterBus.connect({
        nodes: clusterNodes(config.redisCluster.nodes),
        nodeId: busNodeId,
        ...(config.redis ? { prefix: config.redis.prefix } : {}),
        interest: config.redisCluster.interest,
      })
    : config.redis
      ? await RedisBus.connect({
          url: config.redis.url,
          nodeId: busNodeId,
          prefix: config.redis.prefix,
        })
      : undefined;
  const presence = config.redis
    ? await RedisPresence.connect({
        url: config.redis.url,
        prefix: config.redis.prefix,
        ttlMs: config.presenceTtlMs,
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
  });
  const port = await server.listen();
  logger.info(
    {
      host: config.host,
      port,
      tls: config.tls !== undefined,
      redis: Boolean(bus),
      redisCluster: Boolean(config.redisCluster),
      kafka: Boolean(telemetryLog),
      deviceState: Boolean(database),
    },
    'listening',
  );

  stopOnSignals(logger, async () => {
    logger.info({ drainWindowMs: config.drainWindowMs }, 'stopping');
    await server.drain();
    verifier.close();
    await Promise.allSettled([
      telemetryLog?.close(),
      bus?.close(),
      presence?.close(),
      database?.close(),
    ]);
  });
}

// Startup failures (bad config, no keys, fallback uWS, unreachable Redis/Kafka) end here.
main().catch((error: unknown) => exitOnStartupFailure('edge', error));

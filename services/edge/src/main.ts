import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';

import { exitOnStartupFailure, stopOnSignals } from '@fleetwire/config';
import { RedisBus, RedisClusterBus, clusterNodes } from '@fleetwire/bus';
import { pino } from 'pino';

import { loadEdgeConfig } from './config.js';
import { startEdgeNode } from './edge-node.js';
import { loadUws } from './uws.js';
import { startWorkers } from './workers/supervisor.js';
import { usableCores } from './workers/usable-cores.js';

async function main(): Promise<void> {
  const config = loadEdgeConfig(process.env, `${hostname()}-${process.pid}`, {
    workers: usableCores(),
  });
  const logger = pino({ level: config.logLevel, base: { service: 'edge', node: config.nodeId } });
  const { uws, native } = loadUws({ allowFallback: config.allowUwsFallback });
  if (!native)
    logger.warn('running on the slow pure-JS uWebSockets.js fallback (allowed by config)');

  // The bus id is unique per process, even if two processes were given the same node id.
  const busNodeId = `${config.nodeId}-${randomUUID().slice(0, 8)}`;
  const bus = config.redisCluster
    ? await RedisClusterBus.connect({
        nodes: clusterNodes(config.redisCluster.nodes),
        nodeId: busNodeId,
        prefix: config.redisCluster.prefix,
        interest: config.redisCluster.interest,
        replyTimeoutMs: config.redisCluster.replyTimeoutMs,
      })
    : config.redis
      ? await RedisBus.connect({
          url: config.redis.url,
          nodeId: busNodeId,
          prefix: config.redis.prefix,
          replyTimeoutMs: config.redis.replyTimeoutMs,
        })
      : undefined;

  // FLEETWIRE_WORKERS > 1: one uWS app per worker thread on the port, the bus kept by this
  // thread (workers/); otherwise this thread is the node.
  const node =
    config.workers > 1
      ? await startWorkers(config, { logger, ...(bus ? { bus } : {}) })
      : await startEdgeNode(config, {
          uws,
          logger,
          metricsNode: config.nodeId,
          ...(bus ? { bus } : {}),
        });
  // Before `listening`: whoever waits for it may signal at once (a handler-less signal kills).
  stopOnSignals(logger, async () => {
    logger.info({ drainWindowMs: config.drainWindowMs }, 'stopping');
    await node.stop();
  });
  logger.info(
    {
      host: config.host,
      port: node.port,
      ...(config.workers > 1 ? { workers: config.workers } : {}),
      tls: config.tls !== undefined,
      redis: Boolean(bus),
      redisCluster: Boolean(config.redisCluster),
      kafka: config.kafka !== undefined,
      deviceState: config.database !== undefined,
    },
    'listening',
  );
}

// Startup failures (bad config, no keys, fallback uWS, unreachable Redis/Kafka) end here.
main().catch((error: unknown) => exitOnStartupFailure('edge', error));

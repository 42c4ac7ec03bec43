import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';

import { exitOnStartupFailure, stopOnSignals } from '@fleetwire/config';
import { RedisBus } from '@fleetwire/bus';
import { pino } from 'pino';

import { loadEdgeConfig } from './config.js';
import { startEdgeNode } from './edge-node.js';
import { loadUws } from './uws.js';
import { runWorkers } from './workers/supervisor.js';
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
  const bus = config.redis
    ? await RedisBus.connect({
        url: config.redis.url,
        nodeId: busNodeId,
        prefix: config.redis.prefix,
      })
    : undefined;

  if (config.workers > 1) {
    // One uWS app per worker thread on the same port; this thread keeps the bus (workers/).
    await runWorkers(config, { logger, ...(bus ? { bus } : {}) });
    return;
  }

  const node = await startEdgeNode(config, {
    uws,
    logger,
    metricsNode: config.nodeId,
    ...(bus ? { bus } : {}),
  });
  logger.info(
    {
      host: config.host,
      port: node.port,
      tls: config.tls !== undefined,
      redis: Boolean(bus),
      kafka: config.kafka !== undefined,
      deviceState: config.database !== undefined,
    },
    'listening',
  );

  stopOnSignals(logger, async () => {
    logger.info({ drainWindowMs: config.drainWindowMs }, 'stopping');
    await node.stop();
  });
}

// Startup failures (bad config, no keys, fallback uWS, unreachable Redis/Kafka) end here.
main().catch((error: unknown) => exitOnStartupFailure('edge', error));

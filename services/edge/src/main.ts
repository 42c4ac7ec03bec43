import { hostname } from 'node:os';

import { TokenVerifier, loadVerificationKeys } from '@fleetwire/auth';
import { createRegistry } from '@fleetwire/metrics';
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
  const verifier = new TokenVerifier(loadVerificationKeys(config.auth), config.auth);
  const metrics = new EdgeMetrics(createRegistry({ service: 'edge', node: config.nodeId }));
  const server = new EdgeServer({ config, uws, verifier, metrics, logger });
  const port = await server.listen();
  logger.info({ host: config.host, port, tls: config.tls !== undefined }, 'listening');

  let stopping = false;
  const stop = (signal: NodeJS.Signals): void => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal, drainWindowMs: config.drainWindowMs }, 'stopping');
    server.drain().then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error({ err: error }, 'drain failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

main().catch((error: unknown) => {
  // Startup failures (bad config, no keys, fallback uWS) end here: one clear line, exit 1.
  const err = error as Error & { code?: string };
  process.stderr.write(
    `${JSON.stringify({ level: 'fatal', service: 'edge', code: err.code, msg: err.message })}\n`,
  );
  process.exit(1);
});

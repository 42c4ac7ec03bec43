import { hostname } from 'node:os';

import { createTokenVerifier } from '@fleetwire/auth';
import { exitOnStartupFailure, stopOnSignals } from '@fleetwire/config';
import { createRegistry } from '@fleetwire/metrics';
import { migrate, openSqlClient } from '@fleetwire/store';
import { pino } from 'pino';

import { loadIngestConfig } from './config.js';
import { IngestWorker } from './worker.js';

/** `main.ts migrate` applies the migrations and exits; `main.ts` (or `run`) runs the worker. */
async function main(command: string): Promise<void> {
  const config = loadIngestConfig(process.env, `${hostname()}-${process.pid}`);
  const logger = pino({ level: config.logLevel, base: { service: 'ingest', node: config.nodeId } });

  if (command === 'migrate') {
    const client = await openSqlClient(config.store.databaseUrl);
    try {
      logger.info({ applied: await migrate(client) }, 'migrations applied');
    } finally {
      await client.close();
    }
    return;
  }
  if (command !== 'run')
    throw Object.assign(new Error(`unknown command ${command}`), { code: 'INGEST_USAGE' });

  // JWKS URLs are fetched once here; an issuer whose endpoint is down gets 503s until it answers.
  const verifier = await createTokenVerifier(config.auth, {
    logger: logger.child({ component: 'auth' }),
  });
  if (!verifier.ready) {
    logger.warn(verifier.status(), 'starting without the keys of some issuers');
  }
  const registry = createRegistry({ service: 'ingest', node: config.nodeId });
  const starting = IngestWorker.start({
    config,
    verifier,
    registry,
    logger,
    onFatal: (error) => {
      logger.fatal({ err: error }, 'consumer failed for good; exiting to be restarted');
      void started
        .then((worker) => worker?.stop())
        .finally(() => {
          verifier.close();
          process.exit(1);
        });
    },
  });
  // A start that fails is reported by main's caller (exit 1), not by a stop.
  const started = starting.catch(() => undefined);
  // In the same turn, so before `listening` (logged while the consumer still joins its group):
  // whoever waits for it may signal at once, and a signal without a handler kills. A stop asked
  // for during the start waits for it, then stops what it started.
  stopOnSignals(logger, async () => {
    await (await started)?.stop();
    verifier.close();
  });
  await starting;
}

// Startup failures (bad config, no keys, database or Kafka unreachable) end here: one line, exit 1.
main(process.argv[2] ?? 'run').catch((error: unknown) => exitOnStartupFailure('ingest', error));

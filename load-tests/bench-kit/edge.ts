import type { ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

import { runServiceFromSource } from '@fleetwire/testkit';

import { BENCH_SECRET } from './tokens.js';

const EDGE_DIR = fileURLToPath(new URL('../../services/edge/', import.meta.url));

export interface BenchEdge {
  port: number;
  child: ChildProcess;
}

/**
 * The edge from source as its own process on a free port, with the bench secret, info logs, no
 * drain window and one worker thread; `env` adds to or overrides that (Redis, Kafka, limits). Resolves once it
 * listens.
 */
export async function startBenchEdge(
  nodeId: string,
  env: Record<string, string> = {},
): Promise<BenchEdge> {
  const edge = runServiceFromSource({
    packageDir: EDGE_DIR,
    entry: 'src/main.ts',
    env: {
      FLEETWIRE_HOST: '127.0.0.1',
      FLEETWIRE_PORT: '0',
      FLEETWIRE_NODE_ID: nodeId,
      FLEETWIRE_JWT_HS256_SECRET: BENCH_SECRET,
      FLEETWIRE_LOG_LEVEL: 'info',
      FLEETWIRE_DRAIN_WINDOW_MS: '0',
      // One thread, as the figures in RESULTS.md were taken (an edge with Redis runs one worker
      // per core by default); a bench about workers sets it.
      FLEETWIRE_WORKERS: '1',
      ...env,
    },
  });
  return { port: await edge.listening, child: edge.child };
}

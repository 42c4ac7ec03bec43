import { resolve } from 'node:path';

import { envVar, loadConfig, type Env } from '@fleetwire/config';
import { loadEdgeConfig, type EdgeConfig } from '@fleetwire/edge';
import { loadIngestConfig, type IngestConfig } from '@fleetwire/ingest';
import { z } from 'zod';

/** The variables only the embedded process reads; services/fleetwire/README.md lists them. */
const EmbeddedEnv = z.object({
  FLEETWIRE_DATA_DIR: z.string().default('data'),
  FLEETWIRE_TENANT: z
    .string()
    .regex(/^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$/, 'letters, digits, _ and - (1–63 chars)')
    .default('default'),
  FLEETWIRE_DASHBOARD_TOKEN_TTL: z
    .string()
    .regex(/^\d+[smhd]$/, 'a number and a unit: 30m, 12h, 7d')
    .default('12h'),
  // Same names and meaning as for the ingest worker, whose loader keeps them for Kafka.
  FLEETWIRE_BATCH_MAX_ROWS: envVar.int(5000, { min: 1, max: 50_000 }),
  FLEETWIRE_MAX_RECORD_BYTES: envVar.int(256 * 1024, { min: 256, max: 16 * 1024 * 1024 }),
  FLEETWIRE_MAX_FUTURE_SKEW_SEC: envVar.int(86_400, { min: 0, max: 30 * 86_400 }),
});

/** Laptop defaults, under whatever the environment sets. */
const EMBEDDED_DEFAULTS: Env = {
  FLEETWIRE_HOST: '127.0.0.1',
  FLEETWIRE_PORT: '8080',
  FLEETWIRE_NODE_ID: 'embedded',
  // One process: nobody to hand connections to, so no reason to spread the closes out long.
  FLEETWIRE_DRAIN_WINDOW_MS: '1000',
};

/** Variables of the cluster the embedded process does not use (it has its own bus and log). */
export const CLUSTER_ONLY_VARIABLES = [
  'FLEETWIRE_REDIS_URL',
  'FLEETWIRE_REDIS_CLUSTER_NODES',
  'FLEETWIRE_KAFKA_BROKERS',
  // One uWS thread here: its in-memory bus and log belong to it (PGlite runs on a thread of its own).
  'FLEETWIRE_WORKERS',
] as const;

export interface EmbeddedConfig {
  /** Absolute; holds `pglite/` (the database), `secret` (the HS256 key), `fleetwire.pid`. */
  dataDir: string;
  /** Tenant of the printed dashboard token, of simulated devices and `token`'s default. */
  tenant: string;
  dashboardTokenTtl: string;
  edge: EdgeConfig;
  ingest: IngestConfig;
  /** Rows per write into the store. */
  batchMaxRows: number;
  maxRecordBytes: number;
  maxFutureSkewMs: number;
  /** Cluster variables that were set and are ignored here, to warn about. */
  ignored: string[];
}

/** The data dir: `--data` beats FLEETWIRE_DATA_DIR beats `./data`, relative to `cwd`. */
export function dataDirOf(env: Env, cwd: string, option?: string): string {
  const fromEnv = env['FLEETWIRE_DATA_DIR'];
  return resolve(cwd, option ?? (fromEnv === undefined || fromEnv === '' ? 'data' : fromEnv));
}

export interface LoadEmbeddedOptions {
  dataDir: string;
  /** The HS256 secret when the environment sets no key: the one kept in the data dir. */
  secret: string | undefined;
  /** The built dashboard when FLEETWIRE_DASHBOARD_DIR is unset (if one was found). */
  dashboardDir: string | undefined;
  defaultNodeId?: string;
}

/**
 * The embedded process's configuration: the edge's and the ingest worker's own loaders (same
 * variables, same validation) over laptop defaults, plus the few variables of its own.
 */
export function loadEmbeddedConfig(env: Env, options: LoadEmbeddedOptions): EmbeddedConfig {
  const set = Object.fromEntries(
    Object.entries(env).filter(([, v]) => v !== undefined && v !== ''),
  );
  const merged: Env = {
    ...EMBEDDED_DEFAULTS,
    FLEETWIRE_DATABASE_URL: `pglite:${resolve(options.dataDir, 'pglite')}`,
    ...(options.secret === undefined ? {} : { FLEETWIRE_JWT_HS256_SECRET: options.secret }),
    ...(options.dashboardDir === undefined
      ? {}
      : { FLEETWIRE_DASHBOARD_DIR: options.dashboardDir }),
    ...set,
  };
  const own = loadConfig(EmbeddedEnv, merged);
  const nodeId = options.defaultNodeId ?? 'embedded';
  // The embedded process composes the in-memory bus and log itself: Redis and Kafka are dropped.
  // Its device state lives in the same PGlite, opened once (embedded.ts).
  // The cluster's nodes are not read at all: its checks (the prefix's hash tags) do not apply.
  const {
    FLEETWIRE_WORKERS: _workers,
    FLEETWIRE_REDIS_CLUSTER_NODES: _clusterNodes,
    ...oneThread
  } = merged;
  const {
    redis: _redis,
    redisCluster: _redisCluster,
    kafka: _kafka,
    database: _database,
    ...edge
  } = loadEdgeConfig(oneThread, nodeId);
  const ingest = loadIngestConfig(merged, nodeId);
  return {
    dataDir: options.dataDir,
    tenant: own.FLEETWIRE_TENANT,
    dashboardTokenTtl: own.FLEETWIRE_DASHBOARD_TOKEN_TTL,
    edge,
    ingest,
    batchMaxRows: own.FLEETWIRE_BATCH_MAX_ROWS,
    maxRecordBytes: own.FLEETWIRE_MAX_RECORD_BYTES,
    maxFutureSkewMs: own.FLEETWIRE_MAX_FUTURE_SKEW_SEC * 1000,
    ignored: CLUSTER_ONLY_VARIABLES.filter((name) => set[name] !== undefined),
  };
}

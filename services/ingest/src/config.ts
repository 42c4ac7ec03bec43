import { AUTH_ENV, authSettings, type AuthSettings } from '@fleetwire/auth';
import { envVar, loadConfig, type Env } from '@fleetwire/config';
import { DEFAULT_REBALANCE_TIMEOUT_MS } from '@fleetwire/telemetry-log';
import { z } from 'zod';

import type { InFlightLimits } from './in-flight.js';

/** Every FLEETWIRE_* variable the ingest worker reads; services/ingest/README.md lists them. */
const IngestEnv = z.object({
  FLEETWIRE_HOST: z.string().default('0.0.0.0'),
  FLEETWIRE_PORT: envVar.int(8090, { max: 65535 }),
  FLEETWIRE_NODE_ID: envVar.string(),
  FLEETWIRE_LOG_LEVEL: envVar.oneOf(['trace', 'debug', 'info', 'warn', 'error', 'silent'], 'info'),

  FLEETWIRE_DATABASE_URL: z
    .string({ error: 'required (postgres://…, or pglite:<dir> / pglite:memory)' })
    .regex(
      /^(postgres(ql)?:\/\/|pglite:)/,
      'must start with postgres://, postgresql:// or pglite:',
    ),
  FLEETWIRE_DB_POOL_SIZE: envVar.int(4, { min: 1, max: 100 }),
  FLEETWIRE_DB_STATEMENT_TIMEOUT_MS: envVar.int(15_000, { min: 0, max: 3_600_000 }),
  FLEETWIRE_RETENTION_DAYS: envVar.int(30, { min: 1, max: 3650 }),
  FLEETWIRE_PARTITIONS_AHEAD_DAYS: envVar.int(3, { min: 0, max: 60 }),
  FLEETWIRE_MAINTENANCE_INTERVAL_SEC: envVar.int(3600, { min: 1, max: 86_400 }),

  FLEETWIRE_KAFKA_BROKERS: envVar.list(),
  FLEETWIRE_KAFKA_CLIENT_ID: z.string().default('fleetwire-ingest'),
  FLEETWIRE_TELEMETRY_TOPIC: z.string().default('telemetry'),
  FLEETWIRE_DLQ_TOPIC: z.string().default('telemetry.dlq'),
  FLEETWIRE_DLQ_MAX_SEND_BYTES: envVar.int(512 * 1024, { min: 16 * 1024, max: 64 * 1024 * 1024 }),
  FLEETWIRE_CONSUMER_GROUP: z.string().default('fleetwire-ingest'),
  // Short, so a worker killed without leaving (SIGKILL, OOM) is replaced in seconds; a SIGTERM leaves
  // the group at once. The reader heartbeats while a slow write is in hand, so a long write does
  // not cost the partition.
  FLEETWIRE_KAFKA_SESSION_TIMEOUT_MS: envVar.int(10_000, { min: 6_000, max: 300_000 }),
  // Short, so the group lets a restarted consumer in soon after a broker restart (see
  // DEFAULT_REBALANCE_TIMEOUT_MS in @fleetwire/telemetry-log).
  FLEETWIRE_KAFKA_REBALANCE_TIMEOUT_MS: envVar.int(DEFAULT_REBALANCE_TIMEOUT_MS, {
    min: 1_000,
    max: 300_000,
  }),
  FLEETWIRE_BATCH_MAX_ROWS: envVar.int(5000, { min: 1, max: 50_000 }),
  FLEETWIRE_BATCH_MAX_WAIT_MS: envVar.int(200, { min: 1, max: 60_000 }),
  FLEETWIRE_FETCH_MIN_BYTES: envVar.int(65_536, { min: 1, max: 64 * 1024 * 1024 }),
  FLEETWIRE_PARTITIONS_CONCURRENCY: envVar.int(16, { min: 1, max: 1024 }),
  FLEETWIRE_MAX_RECORD_BYTES: envVar.int(256 * 1024, { min: 256, max: 16 * 1024 * 1024 }),
  FLEETWIRE_MAX_FUTURE_SKEW_SEC: envVar.int(86_400, { min: 0, max: 30 * 86_400 }),
  FLEETWIRE_SHUTDOWN_TIMEOUT_MS: envVar.int(30_000, { min: 100, max: 600_000 }),
  FLEETWIRE_WRITE_STUCK_AFTER_MS: envVar.int(30_000, { min: 100, max: 3_600_000 }),

  ...AUTH_ENV,

  FLEETWIRE_API_MAX_PAGE: envVar.int(1000, { min: 1, max: 10_000 }),
  FLEETWIRE_API_MAX_BUCKETS: envVar.int(10_000, { min: 1, max: 100_000 }),
  FLEETWIRE_API_MAX_IN_FLIGHT: envVar.int(8, { min: 1, max: 1_000 }),
  FLEETWIRE_API_MAX_IN_FLIGHT_PER_TENANT: envVar.int(16, { min: 1, max: 1_000 }),
  FLEETWIRE_API_MAX_IN_FLIGHT_TOTAL: envVar.int(32, { min: 1, max: 1_000 }),
});

/** Every variable the ingest worker reads (deployment manifests are checked against it). */
export const INGEST_ENV_VARIABLES: readonly string[] = Object.keys(IngestEnv.shape);

export interface StoreConfig {
  databaseUrl: string;
  poolSize: number;
  /** PostgreSQL `statement_timeout` of the worker's connections, ms; 0: none. */
  statementTimeoutMs: number;
  retentionDays: number;
  partitionsAheadDays: number;
  maintenanceIntervalMs: number;
}

export interface ConsumerConfig {
  brokers: string[];
  clientId: string;
  topic: string;
  dlqTopic: string;
  /** Bytes of dead letters per produce request at most (keep under the topic's max.message.bytes). */
  dlqMaxSendBytes: number;
  groupId: string;
  sessionTimeoutMs: number;
  /** How long a rebalance waits for members to join again (and for members lost to a crash). */
  rebalanceTimeoutMs: number;
  batchMaxRows: number;
  batchMaxWaitMs: number;
  fetchMinBytes: number;
  partitionsConcurrency: number;
  maxRecordBytes: number;
  maxFutureSkewMs: number;
}

export interface ApiConfig {
  maxPage: number;
  maxBuckets: number;
  /** Requests in progress at once, per token, per tenant and in all (InFlightRequests). */
  inFlight: InFlightLimits;
}

/** The token settings, shared with the edge. */
export type AuthConfig = AuthSettings;

export interface IngestConfig {
  host: string;
  port: number;
  nodeId: string;
  logLevel: string;
  store: StoreConfig;
  /** Absent when no brokers are configured: `migrate` needs none, the worker refuses to start. */
  consumer?: ConsumerConfig;
  auth: AuthConfig;
  api: ApiConfig;
  shutdownTimeoutMs: number;
  /** A write in hand (in flight or retrying) for longer makes the writer stuck: not ready. */
  writeStuckAfterMs: number;
}

/** Each in-flight bound at most the next one's, or the smaller would be the one that acts. */
const IngestEnvChecked = IngestEnv.superRefine((e, ctx) => {
  const order = [
    ['FLEETWIRE_API_MAX_IN_FLIGHT', e.FLEETWIRE_API_MAX_IN_FLIGHT],
    ['FLEETWIRE_API_MAX_IN_FLIGHT_PER_TENANT', e.FLEETWIRE_API_MAX_IN_FLIGHT_PER_TENANT],
    ['FLEETWIRE_API_MAX_IN_FLIGHT_TOTAL', e.FLEETWIRE_API_MAX_IN_FLIGHT_TOTAL],
  ] as const;
  for (let i = 1; i < order.length; i += 1) {
    const [lower, low] = order[i - 1]!;
    const [upper, high] = order[i]!;
    if (low > high) {
      ctx.addIssue({
        code: 'custom',
        path: [lower],
        message: `must not exceed ${upper} (${high})`,
      });
    }
  }
});

export function loadIngestConfig(env: Env, defaultNodeId: string): IngestConfig {
  const e = loadConfig(IngestEnvChecked, env);
  const brokers = e.FLEETWIRE_KAFKA_BROKERS ?? [];
  return {
    host: e.FLEETWIRE_HOST,
    port: e.FLEETWIRE_PORT,
    nodeId: e.FLEETWIRE_NODE_ID ?? defaultNodeId,
    logLevel: e.FLEETWIRE_LOG_LEVEL,
    store: {
      databaseUrl: e.FLEETWIRE_DATABASE_URL,
      poolSize: e.FLEETWIRE_DB_POOL_SIZE,
      statementTimeoutMs: e.FLEETWIRE_DB_STATEMENT_TIMEOUT_MS,
      retentionDays: e.FLEETWIRE_RETENTION_DAYS,
      partitionsAheadDays: e.FLEETWIRE_PARTITIONS_AHEAD_DAYS,
      maintenanceIntervalMs: e.FLEETWIRE_MAINTENANCE_INTERVAL_SEC * 1000,
    },
    ...(brokers.length > 0
      ? {
          consumer: {
            brokers,
            clientId: e.FLEETWIRE_KAFKA_CLIENT_ID,
            topic: e.FLEETWIRE_TELEMETRY_TOPIC,
            dlqTopic: e.FLEETWIRE_DLQ_TOPIC,
            dlqMaxSendBytes: e.FLEETWIRE_DLQ_MAX_SEND_BYTES,
            groupId: e.FLEETWIRE_CONSUMER_GROUP,
            sessionTimeoutMs: e.FLEETWIRE_KAFKA_SESSION_TIMEOUT_MS,
            rebalanceTimeoutMs: e.FLEETWIRE_KAFKA_REBALANCE_TIMEOUT_MS,
            batchMaxRows: e.FLEETWIRE_BATCH_MAX_ROWS,
            batchMaxWaitMs: e.FLEETWIRE_BATCH_MAX_WAIT_MS,
            fetchMinBytes: e.FLEETWIRE_FETCH_MIN_BYTES,
            partitionsConcurrency: e.FLEETWIRE_PARTITIONS_CONCURRENCY,
            maxRecordBytes: e.FLEETWIRE_MAX_RECORD_BYTES,
            maxFutureSkewMs: e.FLEETWIRE_MAX_FUTURE_SKEW_SEC * 1000,
          },
        }
      : {}),
    auth: authSettings(e),
    api: {
      maxPage: e.FLEETWIRE_API_MAX_PAGE,
      maxBuckets: e.FLEETWIRE_API_MAX_BUCKETS,
      inFlight: {
        perToken: e.FLEETWIRE_API_MAX_IN_FLIGHT,
        perTenant: e.FLEETWIRE_API_MAX_IN_FLIGHT_PER_TENANT,
        total: e.FLEETWIRE_API_MAX_IN_FLIGHT_TOTAL,
      },
    },
    shutdownTimeoutMs: e.FLEETWIRE_SHUTDOWN_TIMEOUT_MS,
    writeStuckAfterMs: e.FLEETWIRE_WRITE_STUCK_AFTER_MS,
  };
}

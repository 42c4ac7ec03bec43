import { AUTH_ENV, authSettings, type AuthSettings } from '@fleetwire/auth';
import { DEFAULT_MAX_DEVICES_PER_TENANT } from '@fleetwire/bus';
import { envVar, loadConfig, type Env, optional } from '@fleetwire/config';
import { DEFAULT_DECODE_LIMITS, type DecodeLimits } from '@fleetwire/protocol';
import { z } from 'zod';

import type { HistorySettings } from './core/history-policy.js';
import { HISTORY_ENV, historySettings } from './history-config.js';
import type { RebalanceSettings } from './core/rebalance-plan.js';

/** Every FLEETWIRE_* variable the edge reads, with its default. README of services/edge lists them. */
const EdgeEnv = z.object({
  FLEETWIRE_HOST: z.string().default('0.0.0.0'),
  FLEETWIRE_PORT: envVar.int(8080, { max: 65535 }),
  FLEETWIRE_NODE_ID: envVar.string(),
  FLEETWIRE_LOG_LEVEL: envVar.oneOf(['trace', 'debug', 'info', 'warn', 'error', 'silent'], 'info'),
  FLEETWIRE_TLS_CERT_FILE: envVar.string(),
  FLEETWIRE_TLS_KEY_FILE: envVar.string(),
  FLEETWIRE_TLS_PASSPHRASE: envVar.string(),
  FLEETWIRE_ALLOW_UWS_FALLBACK: envVar.bool(false),
  FLEETWIRE_DASHBOARD_DIR: envVar.string(),
  // Default: the cores this process may use (workers/usable-cores.ts); 1 runs no worker threads.
  FLEETWIRE_WORKERS: z.coerce.number().int().min(1).max(256).optional(),

  ...AUTH_ENV,

  FLEETWIRE_MAX_PAYLOAD_BYTES: envVar.int(16 * 1024, { min: 256, max: 16 * 1024 * 1024 }),
  // Default: four times the payload limit (see EdgeLimits.oversizeCloseBytes).
  FLEETWIRE_OVERSIZE_CLOSE_BYTES: z.coerce
    .number()
    .int()
    .min(512)
    .max(64 * 1024 * 1024)
    .optional(),
  FLEETWIRE_MAX_DEPTH: envVar.int(DEFAULT_DECODE_LIMITS.maxDepth, { min: 2, max: 64 }),
  FLEETWIRE_MAX_KEYS: envVar.int(DEFAULT_DECODE_LIMITS.maxKeys, { min: 8, max: 65_536 }),
  FLEETWIRE_MAX_ITEMS: envVar.int(DEFAULT_DECODE_LIMITS.maxItems, { min: 8, max: 1_048_576 }),
  FLEETWIRE_MAX_STRING_BYTES: envVar.int(DEFAULT_DECODE_LIMITS.maxStringBytes, {
    min: 64,
    max: 16 * 1024 * 1024,
  }),
  FLEETWIRE_RATE_PER_SEC: envVar.int(50, { min: 1 }),
  FLEETWIRE_RATE_BURST: envVar.int(100, { min: 1 }),
  FLEETWIRE_RATE_CLOSE_AFTER: envVar.int(20, { min: 1 }),
  FLEETWIRE_MAX_PROTOCOL_ERRORS: envVar.int(10, { min: 1 }),
  FLEETWIRE_MAX_BACKPRESSURE_BYTES: envVar.int(1024 * 1024, { min: 1024 }),
  FLEETWIRE_BACKPRESSURE_POLICY: envVar.oneOf(['close', 'drop'], 'close'),
  FLEETWIRE_IDLE_TIMEOUT_SEC: envVar.int(120, { min: 8, max: 960 }),
  FLEETWIRE_MAX_CONNECTIONS: envVar.int(15_000, { min: 1 }),
  FLEETWIRE_MAX_SUBSCRIPTIONS: envVar.int(100, { min: 1 }),
  FLEETWIRE_COMPRESSION: envVar.bool(false),
  FLEETWIRE_COMMAND_TIMEOUT_MS: envVar.int(10_000, { min: 100, max: 300_000 }),
  FLEETWIRE_DRAIN_WINDOW_MS: envVar.int(10_000, { min: 0, max: 600_000 }),
  FLEETWIRE_PRESENCE_TTL_SEC: envVar.int(30, { min: 1, max: 3600 }),
  FLEETWIRE_MAX_DEVICES_PER_TENANT: envVar.int(DEFAULT_MAX_DEVICES_PER_TENANT, {
    min: 1,
    max: 100_000_000,
  }),
  FLEETWIRE_MAX_SUBDEVICES: envVar.int(256, { min: 1, max: 65_536 }),
  FLEETWIRE_STREAM_BYTES_PER_SEC: envVar.int(64 * 1024, { min: 1024 }),
  FLEETWIRE_STREAM_BURST_BYTES: envVar.int(128 * 1024, { min: 1024 }),
  FLEETWIRE_STREAM_MAX_BUFFERED_BYTES: envVar.int(256 * 1024, { min: 16 * 1024 }),
  FLEETWIRE_REBALANCE: envVar.bool(false),
  FLEETWIRE_REBALANCE_TOLERANCE: z.coerce.number().min(0.05).max(10).default(0.2),
  FLEETWIRE_REBALANCE_FRACTION: z.coerce.number().min(0.001).max(0.5).default(0.05),
  FLEETWIRE_REBALANCE_INTERVAL_MS: envVar.int(15_000, { min: 100, max: 3_600_000 }),

  FLEETWIRE_MQTT_ENABLED: envVar.bool(true),
  FLEETWIRE_MQTT_PATH: z
    .string()
    .regex(/^\/[A-Za-z0-9_./-]*$/, 'a path such as /mqtt')
    .refine((path) => path !== '/ws', 'must differ from /ws')
    .default('/mqtt'),
  FLEETWIRE_MQTT_MAX_PACKET_BYTES: envVar.int(16 * 1024 + 512, { min: 512, max: 16 * 1024 * 1024 }),
  FLEETWIRE_MQTT_MAX_INFLIGHT: envVar.int(32, { min: 1, max: 65_535 }),
  FLEETWIRE_MQTT_CONNECT_TIMEOUT_MS: envVar.int(10_000, { min: 100, max: 120_000 }),
  // A SUBSCRIBE's replay looks through them all for at most a burst of tokens (one per 1,000).
  FLEETWIRE_MQTT_MAX_RETAINED: envVar.int(10_000, { min: 0, max: 100_000 }),

  ...HISTORY_ENV,

  FLEETWIRE_REDIS_URL: z.url({ protocol: /^rediss?$/ }).optional(),
  FLEETWIRE_REDIS_PREFIX: z.string().default('fw:'),
  // A Redis connection that has a command waiting and hears nothing for this long is closed and
  // reconnected: how a silent network (no reset) is told from a slow one (docs/operations.md).
  FLEETWIRE_REDIS_REPLY_TIMEOUT_MS: envVar.int(5_000, { min: 1_000, max: 600_000 }),
  // A Redis Cluster (≥ 7) for the bus (sharded pub/sub, one hash slot per tenant) and presence;
  // with FLEETWIRE_REDIS_URL also set, presence stays on that Redis (docs/operations.md).
  FLEETWIRE_REDIS_CLUSTER_NODES: envVar
    .list()
    .refine(
      (nodes) => nodes === undefined || nodes.every((n) => /^[^\s:,]+:\d{1,5}$/.test(n)),
      'a comma-separated list of host:port',
    ),
  // Skip publishes no other node listens to (interest tables per tenant); off: all cross Redis.
  FLEETWIRE_REDIS_INTEREST: envVar.bool(true),
  // Device state documents (desired/reported) live in the telemetry database; every edge reads
  // and writes them (docs/architecture.md, "Device state"). Unset: no device state on this node.
  FLEETWIRE_DATABASE_URL: z
    .string()
    .regex(/^(postgres(ql)?:\/\/|pglite:)/, 'must start with postgres://, postgresql:// or pglite:')
    .optional(),
  FLEETWIRE_DB_POOL_SIZE: envVar.int(4, { min: 1, max: 100 }),
  FLEETWIRE_KAFKA_BROKERS: envVar.list(),
  FLEETWIRE_KAFKA_TOPIC: z.string().default('telemetry'),
  FLEETWIRE_KAFKA_BATCH_MAX: envVar.int(500, { min: 1, max: 10_000 }),
  FLEETWIRE_KAFKA_LINGER_MS: envVar.int(5, { min: 0, max: 1_000 }),
  FLEETWIRE_KAFKA_MAX_BUFFERED: envVar.int(20_000, { min: 1 }),
  FLEETWIRE_KAFKA_SEND_TIMEOUT_MS: envVar.int(10_000, { min: 500, max: 120_000 }),
});

/** Every variable the edge reads (deployment manifests are checked against it). */
export const EDGE_ENV_VARIABLES: readonly string[] = Object.keys(EdgeEnv.shape);

export interface EdgeConfig {
  host: string;
  port: number;
  nodeId: string;
  logLevel: string;
  tls?: { certFile: string; keyFile: string; passphrase?: string };
  allowUwsFallback: boolean;
  /**
   * uWS apps on the port, one per worker thread (workers/); 1: this thread serves alone. The
   * limits that are per process (maxConnections, the database pool, Kafka's buffer) are split
   * between the workers by the supervisor.
   */
  workers: number;
  /** Built dashboard served at `/`; absent: `/` answers a JSON pointer to the docs. */
  dashboardDir?: string;
  auth: AuthSettings;
  limits: EdgeLimits;
  /** MQTT over WebSocket (transports/mqtt); absent when FLEETWIRE_MQTT_ENABLED=false. */
  mqtt?: MqttSettings;
  drainWindowMs: number;
  presenceTtlMs: number;
  /** Devices a tenant may have presence records of; a new one past it is refused (4003). */
  maxDevicesPerTenant: number;
  /** Message history and recovery (needs a bus: Redis, or the embedded in-memory one). */
  history?: HistorySettings;
  /** Opt-in connection rebalance (FLEETWIRE_REBALANCE=on); absent: never sheds. */
  rebalance?: RebalanceSettings;
  /** Redis for cross-node delivery and presence; absent (and no cluster): a single node. */
  redis?: { url: string; prefix: string; replyTimeoutMs: number };
  /**
   * A Redis Cluster for the bus instead of `redis.url`, and for presence unless `redis` is set
   * too: a deployment that had presence on one Redis keeps it there until it drops the URL.
   */
  redisCluster?: { nodes: string[]; interest: boolean; prefix: string; replyTimeoutMs: number };
  /** PostgreSQL for device state documents; absent: `state.*` is nacked, no state routes. */
  database?: { url: string; poolSize: number };
  /** Kafka for telemetry; absent: telemetry is acked once delivered (no durable log). */
  kafka?: {
    brokers: string[];
    topic: string;
    maxBatch: number;
    lingerMs: number;
    maxBuffered: number;
    sendTimeoutMs: number;
  };
}

export interface MqttSettings {
  /** The WebSocket path MQTT clients connect to (subprotocol `mqtt`). */
  path: string;
  /** Largest MQTT packet (fixed header included), refused from its declared length. */
  maxPacketBytes: number;
  /** QoS 1 PUBLISHes of one connection waiting for their PUBACK (MQTT 5 Receive Maximum). */
  maxInflight: number;
  /** How long a WebSocket may stay open without a CONNECT. */
  connectTimeoutMs: number;
  /** Retained messages this node keeps (oldest dropped first); 0 turns retain off. */
  maxRetained: number;
}

export interface EdgeLimits {
  maxPayloadBytes: number;
  /**
   * Frames up to this size (at least twice maxPayloadBytes, four times by default) are read whole
   * so the edge can close an oversize one with 1009; uWS cuts larger ones itself (1006). uWS
   * buffers a frame up to its declared length, so this is also the most memory one connection can
   * make the node hold: 15,000 connections × 64 KiB ≈ 1 GiB at the defaults.
   */
  oversizeCloseBytes: number;
  /** Shape bounds for every frame and HTTP body, checked before decoding. */
  decode: DecodeLimits;
  ratePerSec: number;
  rateBurst: number;
  /** Rate-limit violations after which the connection is closed with 1008. */
  rateCloseAfter: number;
  /** Invalid messages after which the connection is closed with 1008. */
  maxProtocolErrors: number;
  maxBackpressureBytes: number;
  backpressurePolicy: 'close' | 'drop';
  idleTimeoutSec: number;
  maxConnections: number;
  maxSubscriptions: number;
  compression: boolean;
  commandTimeoutMs: number;
  /** Sub-devices one gateway connection may attach. */
  maxSubDevices: number;
  /** Binary stream bytes a second per device, and how many it may save up. */
  streamBytesPerSec: number;
  streamBurstBytes: number;
  /**
   * A listener with more than this queued gets no stream chunks until it catches up (dropped
   * and counted); below the connection's backpressure limit, so streams never cut a listener.
   */
  streamMaxBufferedBytes: number;
}

export function loadEdgeConfig(
  env: Env,
  defaultNodeId: string,
  defaults: { workers?: number } = {},
): EdgeConfig {
  const e = loadConfig(EdgeEnv, env);
  const certFile = e.FLEETWIRE_TLS_CERT_FILE;
  const keyFile = e.FLEETWIRE_TLS_KEY_FILE;
  if ((certFile === undefined) !== (keyFile === undefined)) {
    throw new Error('set both FLEETWIRE_TLS_CERT_FILE and FLEETWIRE_TLS_KEY_FILE, or neither');
  }
  const clusterNodes = e.FLEETWIRE_REDIS_CLUSTER_NODES ?? [];
  const shared = e.FLEETWIRE_REDIS_URL !== undefined || clusterNodes.length > 0;
  if (clusterNodes.length > 0 && /[{}]/.test(e.FLEETWIRE_REDIS_PREFIX)) {
    throw new Error(
      'FLEETWIRE_REDIS_PREFIX must not contain { or } on a Redis Cluster (hash tags)',
    );
  }
  if ((e.FLEETWIRE_WORKERS ?? 1) > 1 && !shared) {
    throw new Error(
      'FLEETWIRE_WORKERS above 1 needs FLEETWIRE_REDIS_URL or FLEETWIRE_REDIS_CLUSTER_NODES (workers share presence)',
    );
  }
  return {
    host: e.FLEETWIRE_HOST,
    port: e.FLEETWIRE_PORT,
    nodeId: e.FLEETWIRE_NODE_ID ?? defaultNodeId,
    logLevel: e.FLEETWIRE_LOG_LEVEL,
    ...(certFile && keyFile
      ? {
          tls: { certFile, keyFile, ...optional('passphrase', e.FLEETWIRE_TLS_PASSPHRASE) },
        }
      : {}),
    allowUwsFallback: e.FLEETWIRE_ALLOW_UWS_FALLBACK,
    // Workers share presence through Redis: without it each would know only its own devices.
    workers: shared ? (e.FLEETWIRE_WORKERS ?? defaults.workers ?? 1) : 1,
    ...optional('dashboardDir', e.FLEETWIRE_DASHBOARD_DIR),
    auth: authSettings(e),
    limits: {
      maxPayloadBytes: e.FLEETWIRE_MAX_PAYLOAD_BYTES,
      oversizeCloseBytes: Math.max(
        e.FLEETWIRE_OVERSIZE_CLOSE_BYTES ?? 4 * e.FLEETWIRE_MAX_PAYLOAD_BYTES,
        2 * e.FLEETWIRE_MAX_PAYLOAD_BYTES,
      ),
      decode: {
        maxDepth: e.FLEETWIRE_MAX_DEPTH,
        maxKeys: e.FLEETWIRE_MAX_KEYS,
        maxItems: e.FLEETWIRE_MAX_ITEMS,
        maxStringBytes: e.FLEETWIRE_MAX_STRING_BYTES,
      },
      ratePerSec: e.FLEETWIRE_RATE_PER_SEC,
      rateBurst: e.FLEETWIRE_RATE_BURST,
      rateCloseAfter: e.FLEETWIRE_RATE_CLOSE_AFTER,
      maxProtocolErrors: e.FLEETWIRE_MAX_PROTOCOL_ERRORS,
      maxBackpressureBytes: e.FLEETWIRE_MAX_BACKPRESSURE_BYTES,
      backpressurePolicy: e.FLEETWIRE_BACKPRESSURE_POLICY,
      idleTimeoutSec: e.FLEETWIRE_IDLE_TIMEOUT_SEC,
      maxConnections: e.FLEETWIRE_MAX_CONNECTIONS,
      maxSubscriptions: e.FLEETWIRE_MAX_SUBSCRIPTIONS,
      compression: e.FLEETWIRE_COMPRESSION,
      commandTimeoutMs: e.FLEETWIRE_COMMAND_TIMEOUT_MS,
      maxSubDevices: e.FLEETWIRE_MAX_SUBDEVICES,
      streamBytesPerSec: e.FLEETWIRE_STREAM_BYTES_PER_SEC,
      streamBurstBytes: Math.max(e.FLEETWIRE_STREAM_BURST_BYTES, e.FLEETWIRE_STREAM_BYTES_PER_SEC),
      streamMaxBufferedBytes: e.FLEETWIRE_STREAM_MAX_BUFFERED_BYTES,
    },
    ...(e.FLEETWIRE_MQTT_ENABLED
      ? {
          mqtt: {
            path: e.FLEETWIRE_MQTT_PATH,
            maxPacketBytes: e.FLEETWIRE_MQTT_MAX_PACKET_BYTES,
            maxInflight: e.FLEETWIRE_MQTT_MAX_INFLIGHT,
            connectTimeoutMs: e.FLEETWIRE_MQTT_CONNECT_TIMEOUT_MS,
            maxRetained: e.FLEETWIRE_MQTT_MAX_RETAINED,
          },
        }
      : {}),
    drainWindowMs: e.FLEETWIRE_DRAIN_WINDOW_MS,
    presenceTtlMs: e.FLEETWIRE_PRESENCE_TTL_SEC * 1000,
    maxDevicesPerTenant: e.FLEETWIRE_MAX_DEVICES_PER_TENANT,
    ...optional('history', historySettings(e)),
    ...(e.FLEETWIRE_REBALANCE
      ? {
          rebalance: {
            tolerance: e.FLEETWIRE_REBALANCE_TOLERANCE,
            fraction: e.FLEETWIRE_REBALANCE_FRACTION,
            intervalMs: e.FLEETWIRE_REBALANCE_INTERVAL_MS,
          },
        }
      : {}),
    ...(e.FLEETWIRE_REDIS_URL
      ? {
          redis: {
            url: e.FLEETWIRE_REDIS_URL,
            prefix: e.FLEETWIRE_REDIS_PREFIX,
            replyTimeoutMs: e.FLEETWIRE_REDIS_REPLY_TIMEOUT_MS,
          },
        }
      : {}),
    ...(clusterNodes.length > 0
      ? {
          redisCluster: {
            nodes: clusterNodes,
            interest: e.FLEETWIRE_REDIS_INTEREST,
            prefix: e.FLEETWIRE_REDIS_PREFIX,
            replyTimeoutMs: e.FLEETWIRE_REDIS_REPLY_TIMEOUT_MS,
          },
        }
      : {}),
    ...(e.FLEETWIRE_DATABASE_URL
      ? { database: { url: e.FLEETWIRE_DATABASE_URL, poolSize: e.FLEETWIRE_DB_POOL_SIZE } }
      : {}),
    ...(e.FLEETWIRE_KAFKA_BROKERS && e.FLEETWIRE_KAFKA_BROKERS.length > 0
      ? {
          kafka: {
            brokers: e.FLEETWIRE_KAFKA_BROKERS,
            topic: e.FLEETWIRE_KAFKA_TOPIC,
            maxBatch: e.FLEETWIRE_KAFKA_BATCH_MAX,
            lingerMs: e.FLEETWIRE_KAFKA_LINGER_MS,
            maxBuffered: e.FLEETWIRE_KAFKA_MAX_BUFFERED,
            sendTimeoutMs: e.FLEETWIRE_KAFKA_SEND_TIMEOUT_MS,
          },
        }
      : {}),
  };
}

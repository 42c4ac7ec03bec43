import {
  containerEngineAvailable,
  startKafkaContainer,
  startPostgresContainer,
  startRedisContainer,
} from './containers.js';
import type { ServiceEndpoints, ServiceSource } from './endpoints.js';
import { TestkitError } from './errors.js';
import { LocalKafka } from './local/kafka.js';
import { LocalPostgres } from './local/postgres.js';
import { LocalRedis } from './local/redis.js';
import { LocalRedisCluster } from './local/redis-cluster.js';

/** How services without an env URL are provided: `auto` prefers containers when an engine answers. */
export type ProvisionMode = 'auto' | 'containers' | 'local';

export interface StackEnv {
  REDIS_URL?: string | undefined;
  KAFKA_BROKERS?: string | undefined;
  DATABASE_URL?: string | undefined;
  REDIS_CLUSTER_NODES?: string | undefined;
  FLEETWIRE_TEST_SERVICES?: string | undefined;
}

export interface ServiceStack {
  endpoints: ServiceEndpoints;
  stop(): Promise<void>;
}

interface Provided<T> {
  endpoint: T;
  source: ServiceSource;
  stop(): Promise<void>;
}

const BROKER = /^[^\s:,]+:\d{1,5}$/;

function urlFromEnv(
  name: string,
  value: string | undefined,
  protocols: string[],
): string | undefined {
  if (value === undefined || value === '') return undefined;
  let url: URL;
  try {
    url = new URL(value);
  } catch (cause) {
    throw new TestkitError('TESTKIT_BAD_ENV', `${name} is not a URL: ${value}`, { cause });
  }
  if (!protocols.includes(url.protocol)) {
    throw new TestkitError(
      'TESTKIT_BAD_ENV',
      `${name} must use ${protocols.join(' or ')}: ${value}`,
    );
  }
  return value;
}

function addressesFromEnv(name: string, value: string | undefined): string[] | undefined {
  if (value === undefined || value === '') return undefined;
  const addresses = value.split(',').map((b) => b.trim());
  const bad = addresses.find((b) => !BROKER.test(b));
  if (bad !== undefined) {
    throw new TestkitError('TESTKIT_BAD_ENV', `${name} entry "${bad}" is not host:port`);
  }
  return addresses;
}

function modeFromEnv(value: string | undefined): ProvisionMode {
  const mode = value === undefined || value === '' ? 'auto' : value;
  if (mode === 'auto' || mode === 'containers' || mode === 'local') return mode;
  throw new TestkitError(
    'TESTKIT_BAD_ENV',
    `FLEETWIRE_TEST_SERVICES must be auto, containers or local, not "${mode}"`,
  );
}

function fromEnv<T>(endpoint: T): Provided<T> {
  return { endpoint, source: 'env', stop: async () => undefined };
}

async function provide<T>(
  fromEnvValue: T | undefined,
  useContainers: boolean,
  container: () => Promise<{ endpoint: T; stop(): Promise<void> }>,
  local: () => Promise<{ endpoint: T; stop(): Promise<void> }>,
): Promise<Provided<T>> {
  if (fromEnvValue !== undefined) return fromEnv(fromEnvValue);
  if (useContainers) return { ...(await container()), source: 'container' };
  return { ...(await local()), source: 'local' };
}

/**
 * Starts (or finds) the Redis, Kafka, PostgreSQL and Redis Cluster a test run shares. Order per
 * service: URL from env → testcontainers when a container engine answers → a local process (the
 * Redis Cluster: REDIS_CLUSTER_NODES → three local masters).
 */
export async function startServiceStack(env: StackEnv = process.env): Promise<ServiceStack> {
  const redisUrl = urlFromEnv('REDIS_URL', env.REDIS_URL, ['redis:', 'rediss:']);
  const databaseUrl = urlFromEnv('DATABASE_URL', env.DATABASE_URL, ['postgres:', 'postgresql:']);
  const brokers = addressesFromEnv('KAFKA_BROKERS', env.KAFKA_BROKERS);
  const clusterNodes = addressesFromEnv('REDIS_CLUSTER_NODES', env.REDIS_CLUSTER_NODES);
  const mode = modeFromEnv(env.FLEETWIRE_TEST_SERVICES);
  const needsProvisioning = !redisUrl || !databaseUrl || !brokers;
  let useContainers = mode === 'containers';
  if (needsProvisioning && mode === 'auto') useContainers = await containerEngineAvailable();
  if (mode === 'containers' && needsProvisioning && !(await containerEngineAvailable())) {
    throw new TestkitError(
      'TESTKIT_NO_SOURCE',
      'FLEETWIRE_TEST_SERVICES=containers but no container engine answers (is Docker running?)',
    );
  }

  const results = await Promise.allSettled([
    provide(redisUrl, useContainers, startRedisContainer, async () => {
      const redis = await LocalRedis.launch();
      return { endpoint: redis.url, stop: () => redis.dispose() };
    }),
    provide(brokers, useContainers, startKafkaContainer, async () => {
      const kafka = await LocalKafka.launch();
      return { endpoint: kafka.brokers, stop: () => kafka.dispose() };
    }),
    provide(databaseUrl, useContainers, startPostgresContainer, async () => {
      const postgres = await LocalPostgres.launch();
      return { endpoint: postgres.url, stop: () => postgres.dispose() };
    }),
    // No container image is used for the cluster: its nodes announce their own addresses,
    // which must be the ones the tests reach, so it is always local processes.
    provide(
      clusterNodes,
      false,
      () => Promise.reject(new Error('unused')),
      async () => {
        const cluster = await LocalRedisCluster.launch();
        return { endpoint: cluster.addresses, stop: () => cluster.dispose() };
      },
    ),
  ]);
  const started = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
  const stopAll = async (): Promise<void> => {
    await Promise.all(started.map((s) => s.stop()));
  };
  const failures = results.flatMap((r) => (r.status === 'rejected' ? [r.reason as unknown] : []));
  if (failures.length > 0) {
    await stopAll();
    throw new TestkitError('TESTKIT_NO_SOURCE', 'could not provide the test services', {
      cause: failures.length === 1 ? failures[0] : new AggregateError(failures),
    });
  }
  const [redis, kafka, postgres, redisCluster] = results.map(
    (r) => (r as PromiseFulfilledResult<Provided<unknown>>).value,
  ) as [Provided<string>, Provided<string[]>, Provided<string>, Provided<string[]>];
  return {
    endpoints: {
      redisUrl: redis.endpoint,
      kafkaBrokers: kafka.endpoint,
      databaseUrl: postgres.endpoint,
      redisClusterNodes: redisCluster.endpoint,
      sources: {
        redis: redis.source,
        kafka: kafka.source,
        postgres: postgres.source,
        redisCluster: redisCluster.source,
      },
    },
    stop: stopAll,
  };
}

import { GenericContainer, Wait, getContainerRuntimeClient } from 'testcontainers';
import type { StartedTestContainer } from 'testcontainers';

import { freePort } from './local/free-port.js';

export interface StartedContainerService<T> {
  endpoint: T;
  stop(): Promise<void>;
}

/** True when a Docker (or compatible) engine answers; testcontainers' own detection. */
export async function containerEngineAvailable(): Promise<boolean> {
  try {
    await getContainerRuntimeClient();
    return true;
  } catch {
    return false;
  }
}

function stopper(container: StartedTestContainer): () => Promise<void> {
  return async () => {
    await container.stop();
  };
}

export async function startRedisContainer(): Promise<StartedContainerService<string>> {
  const container = await new GenericContainer('redis:7-alpine')
    .withExposedPorts(6379)
    .withWaitStrategy(Wait.forLogMessage('Ready to accept connections'))
    .start();
  return {
    endpoint: `redis://${container.getHost()}:${container.getMappedPort(6379)}`,
    stop: stopper(container),
  };
}

export async function startPostgresContainer(): Promise<StartedContainerService<string>> {
  const container = await new GenericContainer('postgres:15-alpine')
    .withEnvironment({ POSTGRES_HOST_AUTH_METHOD: 'trust' })
    .withExposedPorts(5432)
    .withWaitStrategy(Wait.forLogMessage('database system is ready to accept connections', 2))
    .start();
  return {
    endpoint: `postgres://postgres@${container.getHost()}:${container.getMappedPort(5432)}/postgres`,
    stop: stopper(container),
  };
}

export async function startKafkaContainer(): Promise<StartedContainerService<string[]>> {
  // Kafka advertises its own address to clients, so the host port must be known before start.
  const hostPort = await freePort();
  const container = await new GenericContainer('apache/kafka:4.1.1')
    .withExposedPorts({ container: 9092, host: hostPort })
    .withEnvironment({
      KAFKA_NODE_ID: '1',
      KAFKA_PROCESS_ROLES: 'broker,controller',
      KAFKA_LISTENERS: 'PLAINTEXT://:9092,CONTROLLER://:9093',
      KAFKA_ADVERTISED_LISTENERS: `PLAINTEXT://127.0.0.1:${hostPort}`,
      KAFKA_CONTROLLER_LISTENER_NAMES: 'CONTROLLER',
      KAFKA_LISTENER_SECURITY_PROTOCOL_MAP: 'CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT',
      KAFKA_CONTROLLER_QUORUM_VOTERS: '1@localhost:9093',
      KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR: '1',
      KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR: '1',
      KAFKA_TRANSACTION_STATE_LOG_MIN_ISR: '1',
      KAFKA_GROUP_INITIAL_REBALANCE_DELAY_MS: '0',
      KAFKA_AUTO_CREATE_TOPICS_ENABLE: 'false',
      KAFKA_NUM_PARTITIONS: '3',
    })
    .withWaitStrategy(Wait.forLogMessage('Kafka Server started'))
    .start();
  return { endpoint: [`127.0.0.1:${hostPort}`], stop: stopper(container) };
}

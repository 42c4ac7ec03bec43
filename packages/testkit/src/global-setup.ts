import type { TestProject } from 'vitest/node';

import './endpoints.js';
import { startServiceStack } from './service-stack.js';

/**
 * vitest globalSetup: one Redis, Kafka and PostgreSQL for the whole run, handed to the test
 * files through `inject('fleetwireServices')` (see createTestEnv).
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const stack = await startServiceStack();
  const { sources } = stack.endpoints;
  console.info(
    `[testkit] redis=${sources.redis} kafka=${sources.kafka} postgres=${sources.postgres} ` +
      `redis-cluster=${sources.redisCluster}`,
  );
  project.provide('fleetwireServices', stack.endpoints);
  return () => stack.stop();
}

/**
 * The chaos suite is not a workspace package of its own (no lockfile entry, nothing to install):
 * it borrows pg and ws from infra/deploy-tests, which holds the cluster helpers and these
 * dependencies (the rollout simulation runs from there), and kafkajs from the telemetry log
 * (explain.ts reads the topics). Types come through tsconfig `paths`.
 */
import { createRequire } from 'node:module';

import type * as KafkaJs from 'kafkajs';
import type Pg from 'pg';
import type Ws from 'ws';

const require = createRequire(new URL('../../infra/deploy-tests/package.json', import.meta.url));

export const pg = require('pg') as typeof Pg;
export const WebSocket = require('ws') as typeof Ws;

const kafkajs = createRequire(
  new URL('../../packages/telemetry-log/package.json', import.meta.url),
)('kafkajs') as typeof KafkaJs;
export const { Kafka, logLevel } = kafkajs;

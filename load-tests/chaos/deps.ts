/**
 * The chaos suite is not a workspace package of its own (no lockfile entry, nothing to install):
 * it borrows pg and ws from infra/deploy-tests, which holds the cluster helpers and these
 * dependencies (the rollout simulation runs from there). Types come through tsconfig `paths`.
 */
import { createRequire } from 'node:module';

import type Pg from 'pg';
import type Ws from 'ws';

const require = createRequire(new URL('../../infra/deploy-tests/package.json', import.meta.url));

export const pg = require('pg') as typeof Pg;
export const WebSocket = require('ws') as typeof Ws;

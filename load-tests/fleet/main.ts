/**
 * The fleet scenarios of load-tests/k6/fleet.js on a runner of our own: device processes
 * (DEVICES_PER_PROCESS each, on their own 127.0.0.x source address when the target is local)
 * and one process of dashboards and commanders, on one clock. Thresholds as fleet.js; exit 99
 * when one fails. Parameters: the environment (README.md); run.sh starts the local cluster.
 *
 *   node --import tsx main.ts [--out RESULTS.md]
 */
import { fork } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

import pg from 'pg';

import { fleetParams } from './params.js';
import { emptyStats, merge, type FleetStats } from './stats.js';
import { summaryMarkdown } from './summary.js';
import type { FleetTask } from './worker.js';

const { values } = parseArgs({
  options: {
    out: { type: 'string', default: fileURLToPath(new URL('./RESULTS.md', import.meta.url)) },
  },
});
const params = fleetParams(process.env);
const WORKER = fileURLToPath(new URL('./worker.ts', import.meta.url));
const local = ['127.0.0.1', 'localhost'].includes(new URL(params.url).hostname);

function run(task: FleetTask): Promise<FleetStats> {
  return new Promise((resolve, reject) => {
    const child = fork(WORKER, [], { execArgv: ['--import', 'tsx'], stdio: 'inherit' });
    child.once('message', (stats: FleetStats) => resolve(stats));
    child.once('exit', (code) => code !== 0 && reject(new Error(`client process exited ${code}`)));
    child.send(task);
  });
}

// Processes start in a second or two; the clock starts after that so the ramp is the ramp.
const t0 = Date.now() + 3_000;
const clock = { t0, end: t0 + (params.rampSec + params.holdSec) * 1000 };
const tasks: FleetTask[] = [{ kind: 'observers', params, clock }];
for (let first = 0; first < params.devices; first += params.devicesPerProcess) {
  const index = tasks.length - 1;
  tasks.push({
    kind: 'devices',
    params,
    clock,
    first,
    count: Math.min(params.devicesPerProcess, params.devices - first),
    ...(local ? { localAddress: `127.0.0.${2 + (index % 250)}` } : {}),
  });
}
console.log(
  `fleet: ${params.devices} devices in ${tasks.length - 1} processes, ${params.dashboards} dashboards, ` +
    `${params.commanders} commanders → ${params.url} (ramp ${params.rampSec} s, hold ${params.holdSec} s)`,
);
const stats = emptyStats();
for (const part of await Promise.all(tasks.map(run))) merge(stats, part);

let stored: string | undefined;
if (process.env['DATABASE_URL']) {
  // Every acked message should reach PostgreSQL through Kafka and the ingest worker.
  const acked = stats.counters['fleetwire_telemetry_acked'] ?? 0;
  const db = new pg.Client({ connectionString: process.env['DATABASE_URL'] });
  await db.connect();
  let rows = 0;
  for (let attempt = 0; attempt < 60 && rows < acked; attempt++) {
    const answer = await db.query<{ n: string }>(
      'select count(distinct msg_id) as n from telemetry where tenant = $1',
      [params.tenant],
    );
    rows = Number(answer.rows[0]?.n ?? 0);
    if (rows < acked) await new Promise((resolve) => setTimeout(resolve, 500));
  }
  await db.end();
  stored = `${rows} distinct messages of ${acked} acked (tenant ${params.tenant})`;
}

const heading =
  `Run ${new Date(t0).toISOString()}: ${params.devices} devices × ${params.ratePerDevice}/s, ` +
  `${params.dashboards} dashboards, ${params.commanders} commanders × ${params.commandRate}/s, ` +
  `ramp ${params.rampSec} s + hold ${params.holdSec} s, against ${params.url}; ` +
  `runner: load-tests/fleet (${tasks.length} client processes), ${cpus().length} cores shared with the target.`;
const { text, failed } = summaryMarkdown(stats, heading, params.rampSec + params.holdSec, stored);
console.log(`\n${text}`);
writeFileSync(values.out, text);
console.log(`summary: ${values.out}${failed > 0 ? ` (${failed} threshold(s) failed)` : ''}`);
process.exit(failed > 0 ? 99 : 0);

/**
 * The rollout benchmark: every strategy of rollout.ts in turn on a fresh local cluster, a table
 * of reconnects per device written to load-tests/rollout/RESULTS.md. Bounded: each run has a
 * deadline and the whole process exits when done. Run it with `bash load-tests/rollout/run.sh`.
 */
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

import { simulateRollout, type RolloutOptions, type RolloutResult } from './rollout.js';

const { values } = parseArgs({
  options: {
    edges: { type: 'string', default: '4' },
    devices: { type: 'string', default: '400' },
    'drain-ms': { type: 'string', default: '3000' },
    'telemetry-ms': { type: 'string', default: '2000' },
    out: {
      type: 'string',
      default: fileURLToPath(new URL('../../../load-tests/rollout/RESULTS.md', import.meta.url)),
    },
  },
});

const RUNS: Pick<RolloutOptions, 'strategy' | 'balance'>[] = [
  { strategy: 'in-place', balance: 'roundrobin' },
  { strategy: 'surge', balance: 'roundrobin' },
  { strategy: 'surge', balance: 'random(2)' },
  { strategy: 'surge', balance: 'leastconn' },
];

async function main(): Promise<void> {
  const results: RolloutResult[] = [];
  for (const run of RUNS) {
    const label = `${run.strategy}, ${run.balance}`;
    console.log(`— ${label}`);
    const result = await simulateRollout({
      ...run,
      edges: Number(values.edges),
      devices: Number(values.devices),
      drainWindowMs: Number(values['drain-ms']),
      telemetryEveryMs: Number(values['telemetry-ms']),
      deadlineMs: 300_000,
      // An entry point: cluster.sh needs the machine's PATH, HOME and caches.
      // eslint-disable-next-line no-restricted-properties
      env: process.env,
      log: (line) => console.log(`  ${line}`),
    });
    console.log(
      `  reconnects per device p50 ${result.p50} p90 ${result.p90} max ${result.max}; lost ${result.lost}/${result.sent}`,
    );
    results.push(result);
  }
  const rows = results.map(
    (r) =>
      `| ${r.strategy} | ${r.balance} | ${r.edges} | ${r.devices} | ${r.p50} | ${r.p90} | ${r.max} | ${((100 * r.movedAtMostOnce) / r.devices).toFixed(1)} % | ${r.sent} | ${r.lost} | ${r.rolloutSeconds.toFixed(1)} |`,
  );
  const report = [
    '# Rollout simulation: reconnects per device',
    '',
    `\`bash load-tests/rollout/run.sh\` · ${new Date().toISOString()} · ${values.edges} edges, ${values.devices} SDK devices through HAProxy (wss), drain window ${values['drain-ms']} ms, telemetry with ids every ${values['telemetry-ms']} ms per device · Node ${process.versions.node}`,
    '',
    '| strategy | balance | edges | devices | reconnects p50 | p90 | max | moved ≤ 1× | telemetry sent | lost | rollout s |',
    '| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...rows,
    '',
    '"lost": telemetry with an id that was never acked, or acked and not in PostgreSQL at the end.',
    'Every edge is replaced once per run. What the strategies stand for: load-tests/rollout/README.md.',
  ].join('\n');
  writeFileSync(values.out as string, `${report}\n`);
  console.log(report);
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);

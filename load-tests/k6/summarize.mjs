// Turns k6's --summary-export JSON into RESULTS.md: the figures of each Fleetwire metric and
// whether each threshold held.
//   node summarize.mjs results/summary.json "the command" > RESULTS.md
/* global process, console */
import { readFileSync } from 'node:fs';

const [file, command = 'k6 run fleet.js', stored = ''] = process.argv.slice(2);
const { metrics } = JSON.parse(readFileSync(file, 'utf8'));

const ms = (v) => (v === undefined ? '—' : `${v.toFixed(1)} ms`);
const lines = [
  '# k6: fleet of devices, wildcard dashboards, command round trips',
  '',
  `Command: \`bash load-tests/k6/run.sh\` → \`${command}\` (local cluster: 2 edges behind HAProxy wss, Redis, Kafka, PostgreSQL, 1 ingest; one 2-core machine running everything, k6 included).`,
  '',
  '| metric | count / rate | avg | p50 | p95 | p99 | max |',
  '| --- | --- | --- | --- | --- | --- | --- |',
];
for (const [name, m] of Object.entries(metrics).sort()) {
  if (!name.startsWith('fleetwire_') && !['ws_connecting', 'ws_sessions', 'checks'].includes(name))
    continue;
  if ('p(95)' in m) {
    lines.push(
      `| ${name} | ${m.count ?? ''} | ${ms(m.avg)} | ${ms(m.med)} | ${ms(m['p(95)'])} | ${ms(m['p(99)'])} | ${ms(m.max)} |`,
    );
  } else if ('passes' in m) {
    lines.push(
      `| ${name} | ${(m.value * 100).toFixed(2)} % (${m.passes} ok, ${m.fails} not) | | | | | |`,
    );
  } else if ('count' in m) {
    lines.push(`| ${name} | ${m.count} (${m.rate.toFixed(1)}/s) | | | | | |`);
  }
}
lines.push('', '| threshold | held |', '| --- | --- |');
for (const [name, m] of Object.entries(metrics).sort()) {
  for (const [expr, failed] of Object.entries(m.thresholds ?? {})) {
    lines.push(`| \`${name}\` ${expr} | ${failed ? 'no' : 'yes'} |`);
  }
}
if (stored !== '') {
  const acked = metrics.fleetwire_telemetry_acked?.count ?? 0;
  lines.push(
    '',
    `Telemetry in PostgreSQL after the run: ${stored} distinct messages of ${acked} acked.`,
  );
}
console.log(lines.join('\n'));

/** RESULTS.md of a fleet run: every metric (as k6's summary shows them) and each threshold. */
import { THRESHOLDS } from './thresholds.js';
import { summarize, type FleetStats } from './stats.js';

const ms = (value: number): string => `${value.toFixed(1)} ms`;

export function summaryMarkdown(
  stats: FleetStats,
  heading: string,
  durationSec: number,
  stored: string | undefined,
): { text: string; failed: number } {
  const rows: string[] = [];
  for (const [name, value] of Object.entries(stats.counters).sort()) {
    rows.push(`| ${name} | ${value} (${(value / durationSec).toFixed(1)}/s) | | | | | |`);
  }
  for (const [name, { yes, no }] of Object.entries(stats.rates).sort()) {
    const share = yes + no === 0 ? 0 : (100 * yes) / (yes + no);
    rows.push(`| ${name} | ${share.toFixed(2)} % (${yes} ok, ${no} not) | | | | | |`);
  }
  for (const [name, values] of Object.entries(stats.trends).sort()) {
    const s = summarize(values);
    if (s)
      rows.push(
        `| ${name} | ${s.count} | ${ms(s.avg)} | ${ms(s.med)} | ${ms(s.p95)} | ${ms(s.p99)} | ${ms(s.max)} |`,
      );
  }
  let failed = 0;
  const checks = THRESHOLDS.map((t) => {
    const held = t.held(stats);
    if (!held) failed += 1;
    return `| \`${t.metric}\` ${t.rule} | ${held ? 'yes' : 'no'} |`;
  });
  const text = [
    '# Fleet run: devices, wildcard dashboards, command round trips',
    '',
    heading,
    '',
    '| metric | count / rate | avg | p50 | p95 | p99 | max |',
    '| --- | --- | --- | --- | --- | --- | --- |',
    ...rows,
    '',
    '| threshold | held |',
    '| --- | --- |',
    ...checks,
    '',
    stored === undefined
      ? 'Telemetry in PostgreSQL: not counted (no DATABASE_URL).'
      : `Telemetry in PostgreSQL: ${stored}.`,
    '',
  ].join('\n');
  return { text, failed };
}

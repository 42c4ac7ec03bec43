/**
 * The chaos suite's command (`bash load-tests/chaos/run.sh [--short]`): runs chaos.ts, prints the
 * table and writes it to RESULTS.md beside this file (the full run; `--short` writes only with
 * `--out`). Exits 1 on any loss, duplicate or failed check, 2 when cut by its deadline or Ctrl-C
 * (the cluster is stopped either way; its watchdog stops it if this process dies).
 */
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

import { FAULTS, runChaos, type ChaosOptions, type PhaseResult } from './chaos.js';
import { explanationReport } from './explain.js';

const { values } = parseArgs({
  options: {
    short: { type: 'boolean', default: false },
    devices: { type: 'string' },
    'telemetry-ms': { type: 'string' },
    'outage-ms': { type: 'string' },
    ingests: { type: 'string', default: '2' },
    'log-lines-bound': { type: 'string', default: '100' },
    'deadline-s': { type: 'string' },
    'explain-sample': { type: 'string', default: '0' },
    out: { type: 'string' },
  },
});

const short = values.short === true;
const preset = short
  ? { devices: 30, telemetryMs: 1000, outageMs: 3000, drainMs: 1000, deadlineS: 240 }
  : { devices: 200, telemetryMs: 500, outageMs: 15_000, drainMs: 3000, deadlineS: 900 };
const devices = Number(values.devices ?? preset.devices);
const telemetryMs = Number(values['telemetry-ms'] ?? preset.telemetryMs);
const outageMs = Number(values['outage-ms'] ?? preset.outageMs);
const deadlineS = Number(values['deadline-s'] ?? preset.deadlineS);
const out =
  values.out ?? (short ? undefined : fileURLToPath(new URL('RESULTS.md', import.meta.url)));

const controller = new AbortController();
let interrupted = '';
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.on(sig, () => {
    if (interrupted) process.exit(130); // a second Ctrl-C: the watchdog stops the cluster
    interrupted = sig;
    console.error(`${sig}: stopping after the current step and stopping the cluster…`);
    controller.abort();
  });
}
const deadline = setTimeout(() => {
  interrupted = `deadline ${deadlineS} s`;
  console.error(`deadline of ${deadlineS} s passed: stopping`);
  controller.abort();
  // A step that hangs past the deadline: leave anyway (the watchdog stops the cluster).
  setTimeout(() => process.exit(2), 150_000).unref();
}, deadlineS * 1000);
deadline.unref();

const fmt = (v: number | undefined): string => (v === undefined ? '—' : v.toFixed(1));

function table(results: PhaseResult[]): string {
  const rows = results.map(
    (r) =>
      `| ${r.fault} | ${fmt(r.reconnectS)} | ${r.dropped} | ${r.acked} | ${r.lost} | ${r.late} | ${r.dup} | ${fmt(r.detectionS)} | ${r.detectionWhat || '—'} | ${fmt(r.backS)} | ${r.logLines} | ${r.rssDeltaMb >= 0 ? '+' : ''}${r.rssDeltaMb.toFixed(0)} | ${r.failures.length === 0 ? 'ok' : `**FAIL** (${r.failures.length})`} |`,
  );
  return [
    '| fault | reconnect s | dropped | acked | lost | late | dup | detection s | detected by | back s | log lines | RSS Δ MB | checks |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | ---: | ---: | ---: | --- |',
    ...rows,
  ].join('\n');
}

function details(results: PhaseResult[]): string[] {
  const lines: string[] = [];
  for (const r of results) {
    if (r.failures.length === 0 && r.notes.length === 0 && !r.topLog) continue;
    lines.push(`- **${r.fault}**`);
    for (const f of r.failures) lines.push(`  - FAIL: ${f}`);
    for (const n of r.notes) lines.push(`  - ${n}`);
    if (r.topLog) lines.push(`  - most frequent log line: \`${r.topLog.replace(/`/g, "'")}\``);
  }
  return lines;
}

async function main(): Promise<number> {
  const started = Date.now();
  const options: ChaosOptions = {
    devices,
    telemetryEveryMs: telemetryMs,
    outageMs,
    drainWindowMs: preset.drainMs,
    detectBoundMs: 5000,
    recoverBoundMs: short ? 30_000 : 60_000,
    storeBoundMs: short ? 30_000 : 60_000,
    lagBoundMs: short ? 60_000 : 120_000,
    explainSample: Number(values['explain-sample']),
    memoryBoundMb: 64,
    logLinesBound: Number(values['log-lines-bound']),
    ingests: Number(values.ingests),
    faults: FAULTS,
    // An entry point: cluster.sh needs the machine's PATH, HOME and caches.
    env: process.env,
    log: (line) => console.log(line),
    signal: controller.signal,
  };
  const loadAtStart = loadavg()[0] ?? 0;
  const { results, explanations } = await runChaos(options);
  const seconds = (Date.now() - started) / 1000;
  const lost = results.reduce((n, r) => n + r.lost, 0);
  const dup = results.reduce((n, r) => n + r.dup, 0);
  const failed = results.filter((r) => r.failures.length > 0).length;
  const verdict =
    lost > 0 || dup > 0
      ? `**${lost} acked ids lost, ${dup} stored more than once**`
      : 'every acked id stored exactly once';
  const report = [
    `# Chaos suite${short ? ' (short)' : ''}`,
    '',
    `\`bash load-tests/chaos/run.sh${short ? ' --short' : ''}\` · ${new Date().toISOString()} · 2 edges, ${options.ingests} ingest workers, Redis, Kafka, PostgreSQL, HAProxy (wss) · ${devices} SDK devices, reliable telemetry every ${telemetryMs} ms each · outage ${outageMs / 1000} s per fault · ${seconds.toFixed(0)} s in all · Node ${process.versions.node}${interrupted ? ` · **cut short: ${interrupted}**` : ''}`,
    '',
    machine(loadAtStart),
    '',
    table(results),
    '',
    `${verdict}; ${failed} phase(s) with failed checks.`,
    '',
    'Columns: "reconnect s" from the fault to the last dropped device welcomed again ("dropped" devices);',
    '"acked" ids sent in the phase and acked, "lost" acked and not in PostgreSQL, "dup" stored more than',
    'once (count by msg id, checked again at the end of the run), "late" stored only after the bound',
    '(each missing id is looked up in Kafka: not consumed yet is waited for); "detection s" from the signal to the',
    'health signal named, "back s" from the restart command to it turning back; "log lines" written by',
    'the edges and ingest workers in the phase; "RSS Δ" the largest change of a process not restarted.',
    'Bounds: health flipped within 5 s; everything back within the recovery bound. What each check',
    'means: load-tests/chaos/README.md.',
    '',
    ...details(results),
    ...(explanations.length > 0 ? ['', ...explanationReport(explanations)] : []),
  ].join('\n');
  console.log(`\n${report}`);
  if (out && results.length > 0) writeFileSync(out, `${report}\n`);
  if (interrupted) return 2;
  return lost > 0 || dup > 0 || failed > 0 ? 1 : 0;
}

/**
 * What the run shares its machine with says how to read its times: the load average (runnable
 * processes per minute) next to the core count, and the commit that was run.
 */
function machine(loadAtStart: number): string {
  const cores = cpus();
  let head = 'unknown';
  try {
    head = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
  } catch {
    // Not a git checkout: the line says so.
  }
  const load = (n: number) => n.toFixed(1);
  return `Machine: ${cores.length} × ${cores[0]?.model.trim() ?? 'unknown CPU'}, ${Math.round(totalmem() / 2 ** 30)} GiB · load average ${load(loadAtStart)} at the start, ${load(loadavg()[0] ?? 0)} at the end · HEAD ${head}`;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error);
    process.exit(interrupted ? 2 : 1);
  },
);

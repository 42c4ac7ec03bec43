// Longer than the house limit: one benchmark script, its load generators, measurement and report
// in the order they run.
/**
 * How many binary audio streams one edge relays, with plain telemetry in the same run.
 *
 * One stream = one device sending a 16 kHz 16-bit mono stream (32,000 B/s) as 640-byte chunks
 * every 20 ms, and one listener subscribed to it. Alongside, at every step, telemetry devices
 * send JSON telemetry to one dashboard: the step with no streams is the baseline, and each step
 * reports its telemetry latency as a ratio to it. The edge runs as its own process
 * (services/edge/src/main.ts, no Kafka: telemetry acked once delivered); stream devices and
 * listeners run in two processes of their own, so the generator is not the one core it would be
 * otherwise. A chunk carries its send time in its first 8 bytes (the edge never reads
 * the payload). Bounded: each step runs --seconds.
 *
 *   pnpm --filter @fleetwire/load-tests-streams bench [-- --levels 0,50,100,200,400
 *     --seconds 6 --telemetry 20]
 */
import { fork } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

import { benchArgs, now, openBenchSocket, percentile, startBenchEdge } from '@fleetwire/bench-kit';
import type WebSocket from 'ws';

const CHUNK_BYTES = 640; // 20 ms of 16 kHz 16-bit mono
const CHUNK_MS = 20;
const TELEMETRY_RATE = 10; // messages per second per telemetry device
const CLOCK_TICKS = 100; // USER_HZ on Linux
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

const open = (port: number, sub: string, role: string): Promise<WebSocket> =>
  openBenchSocket(port, sub, role);
const sorted = (values: number[]): number[] => [...values].sort((a, b) => a - b);

/** Sends a JSON message with an id and waits for its ack. */
function acked(ws: WebSocket, message: Record<string, unknown>): Promise<void> {
  const id = `r-${Math.random()}`;
  return new Promise((resolve) => {
    const onMessage = (data: Buffer, isBinary: boolean): void => {
      if (isBinary) return;
      const reply = JSON.parse(data.toString()) as { type: string; id?: string };
      if (reply.id !== id) return;
      ws.off('message', onMessage);
      resolve();
    };
    ws.on('message', onMessage);
    ws.send(JSON.stringify({ ...message, id }));
  });
}

// ---- generator processes: stream devices, stream listeners ---------------------------------

const JOB = process.env['STREAMS_BENCH_JOB'];
const isMainThread = JOB === undefined;
/** The channel to the main process, in a generator process. */
const parentPort =
  JOB === undefined
    ? undefined
    : {
        postMessage: (message: unknown) => process.send?.(message),
        once: (_event: 'message', handler: () => void) => process.once('message', handler),
      };

interface WorkerJob {
  role: 'devices' | 'listeners';
  port: number;
  streams: number;
  /** Stream numbers of this generator start here (several generators share a step). */
  first: number;
  step: string;
  seconds: number;
}

interface WorkerReport {
  sent: number;
  received: number;
  latencies: number[];
  gaps: number;
}

async function runDevices(job: WorkerJob): Promise<WorkerReport> {
  const sockets = await Promise.all(
    Array.from({ length: job.streams }, async (_, k) => {
      const i = job.first + k;
      const ws = await open(job.port, `${job.step}-mic-${i}`, 'device');
      await acked(ws, { type: 'stream_open', channel: 1, name: 'audio', meta: { rate: 16000 } });
      return ws;
    }),
  );
  parentPort?.postMessage({ ready: true });
  await new Promise<void>((resolve) => parentPort?.once('message', () => resolve()));
  let sent = 0;
  const chunk = new Uint8Array(2 + CHUNK_BYTES);
  chunk[0] = 0xc1;
  chunk[1] = 1;
  const view = new DataView(chunk.buffer);
  const end = now() + job.seconds * 1000;
  // One timer for every stream: each tick sends each stream's next 20 ms of audio.
  let next = now();
  while (now() < end) {
    for (const ws of sockets) {
      view.setFloat64(2, now());
      ws.send(chunk);
      sent += 1;
    }
    next += CHUNK_MS;
    // A generator starved of CPU does not catch up in a burst (a microphone would not): the
    // slots it missed are not sent, so what the edge sees stays at the stream's rate.
    if (now() - next > 100) next = now();
    await sleep(Math.max(0, next - now()));
  }
  await sleep(500);
  for (const ws of sockets) ws.terminate();
  return { sent, received: 0, latencies: [], gaps: 0 };
}

async function runListeners(job: WorkerJob): Promise<WorkerReport> {
  let received = 0;
  let gaps = 0;
  const latencies: number[] = [];
  const sockets = await Promise.all(
    Array.from({ length: job.streams }, async (_, k) => {
      const i = job.first + k;
      const ws = await open(job.port, `${job.step}-ear-${i}`, 'dashboard');
      await acked(ws, {
        type: 'subscribe',
        topics: [`devices/${job.step}-mic-${i}/streams/audio`],
      });
      let expected = -1;
      ws.on('message', (data: Buffer, isBinary) => {
        if (!isBinary || data[0] !== 0xc1) return;
        const at = 3 + (data[2] as number);
        const seq = data.readUInt32BE(at);
        if (expected >= 0 && seq !== expected) gaps += 1;
        expected = seq + 1;
        received += 1;
        if (received % 10 === 0) latencies.push(now() - data.readDoubleBE(at + 4));
      });
      return ws;
    }),
  );
  parentPort?.postMessage({ ready: true });
  await new Promise<void>((resolve) => parentPort?.once('message', () => resolve()));
  // Room for chunks still in flight when the devices stop.
  await sleep(job.seconds * 1000 + 3000);
  for (const ws of sockets) ws.terminate();
  return { sent: 0, received, latencies, gaps };
}

if (!isMainThread) {
  const job = JSON.parse(JOB as string) as WorkerJob;
  const report = await (job.role === 'devices' ? runDevices(job) : runListeners(job));
  parentPort?.postMessage({ report });
  process.disconnect?.();
}

// ---- the main thread: edge, telemetry, steps, report ---------------------------------------

function cpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS;
}

function rssMb(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8')
    .split('\n')
    .find((l) => l.startsWith('VmRSS:'));
  return Number(line?.split(/\s+/)[1] ?? 0) / 1024;
}

function metric(port: number, name: string): Promise<number> {
  return new Promise((resolve, reject) => {
    request({ host: '127.0.0.1', port, path: '/metrics' }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => {
        let total = 0;
        for (const line of body.split('\n'))
          if (line.startsWith(name)) total += Number(line.split(' ').pop());
        resolve(total);
      });
    })
      .on('error', reject)
      .end();
  });
}

function worker(job: WorkerJob): { ready: Promise<void>; go(): void; done: Promise<WorkerReport> } {
  const w = fork(fileURLToPath(import.meta.url), [], {
    execArgv: process.execArgv,
    env: { ...process.env, STREAMS_BENCH_JOB: JSON.stringify(job) },
  });
  let ready!: () => void;
  let done!: (report: WorkerReport) => void;
  const readyP = new Promise<void>((r) => (ready = r));
  const doneP = new Promise<WorkerReport>((r) => (done = r));
  w.on('message', (m: { ready?: boolean; report?: WorkerReport }) => {
    if (m.ready) ready();
    if (m.report) done(m.report);
  });
  w.once('exit', (code: number | null) => {
    if (code !== 0) throw new Error(`a ${job.role} generator exited with ${code}`);
  });
  return { ready: readyP, go: () => w.send('go'), done: doneP };
}

interface StepResult {
  streams: number;
  sent: number;
  received: number;
  gaps: number;
  chunkP50: number;
  chunkP99: number;
  telemetryP50: number;
  telemetryP99: number;
  telemetryDelivered: string;
  cpuPercent: number;
  /** Edge CPU per chunk in (one in, one listener out), µs. */
  cpuPerChunkUs: number;
  rssMb: number;
  slowDrops: number;
  rateDrops: number;
}

async function step(
  edge: { port: number; pid: number },
  streams: number,
  args: { seconds: number; telemetry: number; perProcess: number },
): Promise<StepResult> {
  const name = `s${streams}`;
  // One generator process per PER_PROCESS streams on each side.
  const spawnSide = (role: WorkerJob['role']) => {
    const all: ReturnType<typeof worker>[] = [];
    for (let first = 0; first < streams; first += args.perProcess) {
      const count = Math.min(args.perProcess, streams - first);
      all.push(
        worker({ role, port: edge.port, streams: count, first, step: name, seconds: args.seconds }),
      );
    }
    return {
      ready: Promise.all(all.map((w) => w.ready)).then(() => undefined),
      go: () => all.forEach((w) => w.go()),
      done: Promise.all(all.map((w) => w.done)).then((reports) => ({
        sent: reports.reduce((n, r) => n + r.sent, 0),
        received: reports.reduce((n, r) => n + r.received, 0),
        gaps: reports.reduce((n, r) => n + r.gaps, 0),
        latencies: reports.flatMap((r) => r.latencies),
      })),
    };
  };
  const devices = spawnSide('devices');
  const listeners = spawnSide('listeners');
  // Plain telemetry in the same run: devices → one dashboard on devices/+/telemetry.
  const dashboard = await open(edge.port, `${name}-ops`, 'dashboard');
  await acked(dashboard, { type: 'subscribe', topics: ['devices/+/telemetry'] });
  const telemetryLatency: number[] = [];
  let telemetryReceived = 0;
  dashboard.on('message', (data: Buffer, isBinary) => {
    if (isBinary) return;
    const m = JSON.parse(data.toString()) as { type: string; from?: string; data?: { t?: number } };
    if (m.type !== 'message' || !m.from?.startsWith(`${name}-t-`) || m.data?.t === undefined)
      return;
    telemetryReceived += 1;
    telemetryLatency.push(now() - m.data.t);
  });
  const senders = await Promise.all(
    Array.from({ length: args.telemetry }, (_, i) => open(edge.port, `${name}-t-${i}`, 'device')),
  );
  await Promise.all([devices.ready, listeners.ready]);
  const [slow0, rate0] = [
    await metric(edge.port, 'fleetwire_edge_stream_chunks_dropped_total{reason="slow_listener"'),
    await metric(edge.port, 'fleetwire_edge_stream_chunks_dropped_total{reason="rate_limited"'),
  ];
  const cpu0 = cpuMs(edge.pid);
  const t0 = performance.now();
  listeners.go();
  devices.go();
  let telemetrySent = 0;
  const timer = setInterval(() => {
    for (const ws of senders) {
      ws.send(JSON.stringify({ type: 'telemetry', data: { t: now() } }));
      telemetrySent += 1;
    }
  }, 1000 / TELEMETRY_RATE);
  await sleep(args.seconds * 1000);
  clearInterval(timer);
  const cpu = cpuMs(edge.pid) - cpu0;
  const wall = performance.now() - t0;
  const rss = rssMb(edge.pid);
  const [sent, got] = await Promise.all([devices.done, listeners.done]);
  await sleep(300);
  const result: StepResult = {
    streams,
    sent: sent.sent,
    received: got.received,
    gaps: got.gaps,
    chunkP50: percentile(sorted(got.latencies), 0.5),
    chunkP99: percentile(sorted(got.latencies), 0.99),
    telemetryP50: percentile(sorted(telemetryLatency), 0.5),
    telemetryP99: percentile(sorted(telemetryLatency), 0.99),
    telemetryDelivered: `${telemetryReceived}/${telemetrySent}`,
    cpuPercent: (cpu / wall) * 100,
    cpuPerChunkUs: sent.sent > 0 ? (cpu * 1000) / sent.sent : Number.NaN,
    rssMb: rss,
    slowDrops:
      (await metric(
        edge.port,
        'fleetwire_edge_stream_chunks_dropped_total{reason="slow_listener"',
      )) - slow0,
    rateDrops:
      (await metric(
        edge.port,
        'fleetwire_edge_stream_chunks_dropped_total{reason="rate_limited"',
      )) - rate0,
  };
  for (const ws of [dashboard, ...senders]) ws.terminate();
  return result;
}

if (isMainThread) {
  const { values } = parseArgs({
    args: benchArgs(),
    options: {
      levels: { type: 'string', default: '0,50,100,200,400' },
      seconds: { type: 'string', default: '6' },
      telemetry: { type: 'string', default: '20' },
      'per-process': { type: 'string', default: '200' },
      out: { type: 'string', default: fileURLToPath(new URL('./RESULTS.md', import.meta.url)) },
    },
  });
  const levels = values.levels.split(',').map(Number);
  const args = {
    seconds: Number(values.seconds),
    telemetry: Number(values.telemetry),
    perProcess: Number(values['per-process']),
  };
  const { port, child } = await startBenchEdge('bench');
  // However the run ends, the edge ends with it.
  process.once('exit', () => child.kill('SIGKILL'));
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => process.exit(1));
  const edge = { port, pid: child.pid as number };
  const results: StepResult[] = [];
  // The report is rewritten after every step, so a run cut short still leaves its figures.
  const write = (): string => {
    const base = results[0] as StepResult;
    const fmt = (v: number): string => (Number.isFinite(v) ? v.toFixed(1) : '–');
    const ratio = (v: number, b: number): string =>
      Number.isFinite(v) && b > 0 ? `×${(v / b).toFixed(2)}` : '–';
    const kept = results.filter(
      (r) => r.streams > 0 && r.received >= 0.999 * r.sent && r.chunkP99 < 100,
    );
    const best = kept.at(-1)?.streams ?? 0;
    const rows = results.map(
      (r) =>
        `| ${r.streams} | ${((r.streams * CHUNK_BYTES * 1000) / CHUNK_MS / 1e6).toFixed(2)} | ${r.received}/${r.sent} | ${r.gaps} | ${fmt(r.chunkP50)} | ${fmt(r.chunkP99)} | ${r.telemetryDelivered} | ${fmt(r.telemetryP50)} (${ratio(r.telemetryP50, base.telemetryP50)}) | ${fmt(r.telemetryP99)} (${ratio(r.telemetryP99, base.telemetryP99)}) | ${fmt(r.cpuPercent)} | ${fmt(r.cpuPerChunkUs)} | ${fmt(r.rssMb)} | ${r.slowDrops} / ${r.rateDrops} |`,
    );
    const report = [
      '# Binary streams relayed by one edge, with telemetry in the same run',
      '',
      `${new Date().toISOString()} · a stream: 16 kHz 16-bit mono, ${CHUNK_BYTES}-byte chunks every ${CHUNK_MS} ms (32,000 B/s), one listener each · telemetry: ${args.telemetry} devices × ${TELEMETRY_RATE} msg/s to one dashboard · ${args.seconds} s per step · generators: one process per ${args.perProcess} streams on each side · Node ${process.versions.node} · ${process.env['BENCH_NOTE'] ?? ''}`,
      '',
      '| streams | MB/s in | chunks received/sent | seq gaps | chunk p50 ms | chunk p99 ms | telemetry delivered | telemetry p50 ms (vs 0 streams) | telemetry p99 ms (vs 0 streams) | edge CPU % | edge CPU µs per chunk | edge RSS MB | drops slow / rate |',
      '| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
      ...rows,
      '',
      `Streams relayed with every chunk delivered (≥ 99.9 %) and chunk p99 under 100 ms: **${best}** (the highest step that met both).`,
      '',
    ].join('\n');
    writeFileSync(values.out, report);
    return report;
  };
  try {
    for (const streams of levels) {
      const result = await step(edge, streams, args);
      results.push(result);
      process.stderr.write(`${JSON.stringify(result)}\n`);
      write();
    }
  } finally {
    child.kill('SIGTERM');
  }
  const report = write();
  process.stdout.write(report);
}

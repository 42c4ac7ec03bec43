/**
 * The cost of history: the same fan-out with history off and on, in one run, measured from the
 * clients (devices stamp a high-resolution send time, dashboards compute the delay on receipt).
 *
 *   paced: devices on node A publish at a fixed rate, dashboards on node B and on node A
 *          (subscribed to devices/+/telemetry) — latency p50/p99/p99.9 at a load both keep up with
 *   burst: every device sends its messages as fast as it can — deliveries/s until all arrived
 *
 * History off: local delivery on A at once, one PUBLISH per message to B. History on: one Lua
 * call per message (XADD + PUBLISH with the position), every node delivers what comes back from
 * Redis, A included. Each edge is its own process (services/edge/src/main.ts), Redis is local.
 *   pnpm --filter @fleetwire/load-tests-history bench [-- --devices 20 --dashboards 4 --rate 50 --seconds 10 --burst 1000]
 */
import { writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

import {
  benchArgs,
  now,
  openBenchSocket,
  percentile,
  startBenchEdge,
  type BenchEdge,
} from '@fleetwire/bench-kit';
import { LocalRedis } from '@fleetwire/testkit';
import type WebSocket from 'ws';

import { busBench } from './bus-bench.js';

const { values } = parseArgs({
  args: benchArgs(),
  options: {
    devices: { type: 'string', default: '20' },
    dashboards: { type: 'string', default: '4' },
    rate: { type: 'string', default: '50' },
    seconds: { type: 'string', default: '10' },
    burst: { type: 'string', default: '1000' },
    out: { type: 'string', default: fileURLToPath(new URL('./RESULTS.md', import.meta.url)) },
  },
});
const DEVICES = Number(values.devices);
const DASHBOARDS = Number(values.dashboards);
const RATE = Number(values.rate);
const SECONDS = Number(values.seconds);
const BURST = Number(values.burst);
function startEdge(name: string, redisUrl: string, history: boolean): Promise<BenchEdge> {
  return startBenchEdge(name, {
    FLEETWIRE_RATE_PER_SEC: '100000',
    FLEETWIRE_RATE_BURST: '100000',
    FLEETWIRE_MAX_BACKPRESSURE_BYTES: String(64 * 1024 * 1024),
    FLEETWIRE_REDIS_URL: redisUrl,
    FLEETWIRE_REDIS_PREFIX: `bench-${name.split('-')[0]}:`,
    FLEETWIRE_HISTORY_ENABLED: String(history),
    // Throughput, not the outage bound: the burst must fit (see RESULTS.md for the default).
    FLEETWIRE_BUS_OUTBOX_MAX: '200000',
    FLEETWIRE_BUS_OUTBOX_MAX_BYTES: String(256 * 1024 * 1024),
  });
}

const open = (port: number, sub: string, role: string): Promise<WebSocket> =>
  openBenchSocket(port, sub, role);

interface Result {
  sent: number;
  delivered: number;
  expected: number;
  seconds: number;
  p50: number;
  p99: number;
  p999: number;
}

async function run(
  label: string,
  devicePort: number,
  dashboardPorts: number[],
  send: (devices: WebSocket[]) => Promise<number>,
): Promise<Result> {
  const latencies: number[] = [];
  const dashboards = await Promise.all(
    dashboardPorts.flatMap((port, n) =>
      Array.from({ length: DASHBOARDS / dashboardPorts.length }, (_, i) =>
        open(port, `dash-${label}-${n}-${i}`, 'dashboard'),
      ),
    ),
  );
  await Promise.all(
    dashboards.map(
      (ws) =>
        new Promise<void>((resolve) => {
          ws.once('message', () => resolve()); // the subscribe ack
          ws.send(JSON.stringify({ type: 'subscribe', id: 's', topics: ['devices/+/telemetry'] }));
        }),
    ),
  );
  let delivered = 0;
  for (const ws of dashboards) {
    ws.on('message', (data: Buffer) => {
      const message = JSON.parse(data.toString()) as { type: string; data?: { t?: number } };
      if (message.type !== 'message' || message.data?.t === undefined) return;
      latencies.push(now() - message.data.t);
      delivered += 1;
    });
  }
  const devices = await Promise.all(
    Array.from({ length: DEVICES }, (_, i) => open(devicePort, `dev-${label}-${i}`, 'device')),
  );
  const started = now();
  const sent = await send(devices);
  const expected = sent * dashboards.length;
  const deadline = now() + 30_000;
  while (delivered < expected && now() < deadline) await new Promise((r) => setTimeout(r, 10));
  const seconds = (now() - started) / 1000;
  for (const ws of [...devices, ...dashboards]) ws.terminate();
  latencies.sort((a, b) => a - b);
  return {
    sent,
    delivered,
    expected,
    seconds,
    p50: percentile(latencies, 0.5),
    p99: percentile(latencies, 0.99),
    p999: percentile(latencies, 0.999),
  };
}

async function paced(devices: WebSocket[]): Promise<number> {
  const started = now();
  let sent = 0;
  for (let tick = 0; tick < SECONDS * 10; tick++) {
    const wait = started + tick * 100 - now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    for (const ws of devices) {
      for (let k = 0; k < RATE / 10; k++) {
        ws.send(JSON.stringify({ type: 'telemetry', data: { t: now() } }));
        sent += 1;
      }
    }
  }
  return sent;
}

async function burst(devices: WebSocket[]): Promise<number> {
  let sent = 0;
  // Chunks of 100 per device, yielding between them so the sockets drain.
  for (let done = 0; done < BURST; done += 100) {
    for (const ws of devices) {
      for (let k = 0; k < 100 && done + k < BURST; k++) {
        ws.send(JSON.stringify({ type: 'telemetry', data: { t: now() } }));
        sent += 1;
      }
    }
    await new Promise((r) => setImmediate(r));
  }
  return sent;
}

async function main(): Promise<void> {
  const redis = await LocalRedis.launch();
  const children: BenchEdge['child'][] = [];
  try {
    const nodes: Record<string, { a: number; b: number }> = {};
    for (const mode of ['off', 'on']) {
      const a = await startEdge(`${mode}-a`, redis.url, mode === 'on');
      const b = await startEdge(`${mode}-b`, redis.url, mode === 'on');
      children.push(a.child, b.child);
      nodes[mode] = { a: a.port, b: b.port };
    }
    const results: Record<string, Result> = {};
    const loadBefore = loadavg()[0]!;
    const bus = await busBench(redis.url);
    // Interleaved, so a noisy neighbour on the shared machine hits both modes alike.
    for (const [kind, send] of [
      ['paced', paced],
      ['burst', burst],
    ] as const) {
      for (const mode of ['off', 'on']) {
        const { a, b } = nodes[mode]!;
        results[`${kind}-${mode}`] = await run(`${kind}-${mode}`, a, [a, b], send);
      }
    }
    const row = (name: string): string => {
      const r = results[name]!;
      return (
        `| ${name} | ${r.sent} | ${r.delivered}/${r.expected} | ${(r.delivered / r.seconds).toFixed(0)} | ` +
        `${r.p50.toFixed(2)} | ${r.p99.toFixed(2)} | ${r.p999.toFixed(2)} |`
      );
    };
    const ratio = (kind: string, f: (r: Result) => number): string =>
      (f(results[`${kind}-on`]!) / f(results[`${kind}-off`]!)).toFixed(2);
    const throughput = (r: Result) => r.delivered / r.seconds;
    const report = [
      `# History on vs off`,
      ``,
      `${new Date().toISOString()} · ${DEVICES} devices on node A; ${DASHBOARDS} dashboards (half on A, half on B) subscribed to devices/+/telemetry · paced: ${RATE} msg/s per device for ${SECONDS} s · burst: ${BURST} messages per device as fast as it sends · Node ${process.versions.node}`,
      ``,
      `## End to end (edges as processes, WebSocket clients)`,
      ``,
      `| run | sent | delivered | deliveries/s | p50 ms | p99 ms | p99.9 ms |`,
      `| --- | ---: | ---: | ---: | ---: | ---: | ---: |`,
      ...Object.keys(results).map(row),
      ``,
      `history on / off — paced: p50 ×${ratio('paced', (r) => r.p50)}, p99 ×${ratio('paced', (r) => r.p99)}, p99.9 ×${ratio('paced', (r) => r.p999)}; ` +
        `burst: deliveries/s ×${ratio('burst', throughput)}, p99 ×${ratio('burst', (r) => r.p99)}`,
      ``,
      `## The bus alone (bus-bench.ts: one process, one Redis, medians of 3 interleaved rounds)`,
      ``,
      `| | publish (history off) | append (history on) | on / off |`,
      `| --- | ---: | ---: | ---: |`,
      `| messages/s (publish: 256 in flight; append: batches of 64, 32 in flight) | ${bus.publishPerSec.toFixed(0)} | ${bus.appendPerSec.toFixed(0)} | ×${(bus.appendPerSec / bus.publishPerSec).toFixed(2)} |`,
      `| one message round trip p50 ms | ${bus.publishRttP50.toFixed(3)} | ${bus.appendRttP50.toFixed(3)} | ×${(bus.appendRttP50 / bus.publishRttP50).toFixed(2)} |`,
      `| one message round trip p99 ms | ${bus.publishRttP99.toFixed(3)} | ${bus.appendRttP99.toFixed(3)} | ×${(bus.appendRttP99 / bus.publishRttP99).toFixed(2)} |`,
      ``,
      `Clients, four edge processes and Redis share the machine (load average ${loadBefore.toFixed(1)} before the`,
      `runs, ${loadavg()[0]!.toFixed(1)} after, on ${String(cpus().length)} cores), so absolute figures are a floor for the`,
      `client side as much as the server; compare the ratios.`,
    ].join('\n');
    writeFileSync(values.out as string, `${report}\n`);
    console.log(report);
  } finally {
    for (const child of children) child.kill('SIGKILL');
    await redis.dispose();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});

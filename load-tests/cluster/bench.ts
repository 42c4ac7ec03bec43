/**
 * Publish→deliver latency and deliveries per second through edge nodes, measured from the
 * clients: devices publish telemetry stamped with a high-resolution send time, dashboards
 * subscribed to `devices/+/telemetry` compute the delay on receipt (one process, one clock).
 *
 *   baseline:   devices and dashboards on one edge node (uWS native fan-out only)
 *   cross-node: devices on node A, dashboards on node B (through Redis pub/sub)
 *
 * Each edge runs as its own process (services/edge/src/main.ts). Bounded in count and time.
 *   pnpm --filter @fleetwire/load-tests-cluster bench [-- --devices 20 --dashboards 4 --rate 100 --seconds 10]
 */
import { writeFileSync } from 'node:fs';
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

const { values } = parseArgs({
  args: benchArgs(),
  options: {
    devices: { type: 'string', default: '20' },
    dashboards: { type: 'string', default: '4' },
    rate: { type: 'string', default: '100' },
    seconds: { type: 'string', default: '10' },
    out: { type: 'string', default: fileURLToPath(new URL('./RESULTS.md', import.meta.url)) },
  },
});
const DEVICES = Number(values.devices);
const DASHBOARDS = Number(values.dashboards);
const RATE = Number(values.rate); // messages per second per device
const SECONDS = Number(values.seconds);
async function startEdge(name: string, redisUrl: string | undefined): Promise<BenchEdge> {
  return startBenchEdge(name, {
    FLEETWIRE_RATE_PER_SEC: String(RATE * 4),
    FLEETWIRE_RATE_BURST: String(RATE * 4),
    ...(redisUrl ? { FLEETWIRE_REDIS_URL: redisUrl } : {}),
  });
}

const open = (port: number, sub: string, role: string): Promise<WebSocket> =>
  openBenchSocket(port, sub, role);

interface Result {
  name: string;
  sent: number;
  delivered: number;
  expected: number;
  seconds: number;
  p50: number;
  p99: number;
  p999: number;
  max: number;
}

async function run(name: string, devicePort: number, dashboardPort: number): Promise<Result> {
  const latencies: number[] = [];
  const dashboards = await Promise.all(
    Array.from({ length: DASHBOARDS }, (_, i) =>
      open(dashboardPort, `dash-${name}-${i}`, 'dashboard'),
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
    Array.from({ length: DEVICES }, (_, i) => open(devicePort, `dev-${name}-${i}`, 'device')),
  );
  const started = now();
  let sent = 0;
  const ticks = SECONDS * 10;
  const perTick = RATE / 10;
  for (let tick = 0; tick < ticks; tick++) {
    const due = started + tick * 100;
    const wait = due - now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    for (const ws of devices) {
      for (let k = 0; k < perTick; k++) {
        ws.send(JSON.stringify({ type: 'telemetry', data: { t: now() } }));
        sent += 1;
      }
    }
  }
  const expected = sent * DASHBOARDS;
  const deadline = now() + 10_000;
  while (delivered < expected && now() < deadline) await new Promise((r) => setTimeout(r, 50));
  const seconds = (now() - started) / 1000;
  for (const ws of [...devices, ...dashboards]) ws.terminate();
  latencies.sort((a, b) => a - b);
  return {
    name,
    sent,
    delivered,
    expected,
    seconds,
    p50: percentile(latencies, 0.5),
    p99: percentile(latencies, 0.99),
    p999: percentile(latencies, 0.999),
    max: latencies[latencies.length - 1] ?? NaN,
  };
}

async function main(): Promise<void> {
  const redis = await LocalRedis.launch();
  const children: BenchEdge['child'][] = [];
  try {
    const single = await startEdge('single', undefined);
    const a = await startEdge('a', redis.url);
    const b = await startEdge('b', redis.url);
    children.push(single.child, a.child, b.child);
    const baseline = await run('baseline', single.port, single.port);
    const crossNode = await run('cross-node', a.port, b.port);
    const rows = [baseline, crossNode].map(
      (r) =>
        `| ${r.name} | ${r.sent} | ${r.delivered}/${r.expected} | ${(r.delivered / r.seconds).toFixed(0)} | ` +
        `${r.p50.toFixed(2)} | ${r.p99.toFixed(2)} | ${r.p999.toFixed(2)} | ${r.max.toFixed(2)} |`,
    );
    const ratio = (x: number, y: number): string => (x / y).toFixed(2);
    const report = [
      `# Cluster fan-out benchmark`,
      ``,
      `${new Date().toISOString()} · ${DEVICES} devices × ${RATE} msg/s for ${SECONDS} s, ${DASHBOARDS} dashboards subscribed to devices/+/telemetry · Node ${process.versions.node}`,
      ``,
      `| run | sent | delivered | deliveries/s | p50 ms | p99 ms | p99.9 ms | max ms |`,
      `| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |`,
      ...rows,
      ``,
      `cross-node / baseline: p50 ×${ratio(crossNode.p50, baseline.p50)}, p99 ×${ratio(crossNode.p99, baseline.p99)}, ` +
        `p99.9 ×${ratio(crossNode.p999, baseline.p999)}, deliveries/s ×${ratio(crossNode.delivered / crossNode.seconds, baseline.delivered / baseline.seconds)}`,
      ``,
      `Clients, three edge processes and Redis share the machine (2 cores here), so absolute figures`,
      `are a floor for the client side as much as the server; compare the ratios.`,
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

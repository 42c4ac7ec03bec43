/**
 * The device state loop through two edge processes over Redis and PostgreSQL, measured from the
 * clients (one process, one clock):
 *
 *   baseline: a command from a service on edge B to a device on edge A and its ack back
 *             (bus both ways, no database);
 *   state:    `state.set` on B → the row written (version+1) → `state` to the device on A through
 *             its inbox → the device reports → the row written again → the change published on
 *             `devices/<id>/state` → seen on B with an empty delta.
 *
 * Rounds: every device at once, the next round when all closed. Bounded in count and time.
 *   pnpm --filter @fleetwire/load-tests-state bench [-- --devices 50 --rounds 20]
 */
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

import { createPgClient, migrate } from '@fleetwire/store';
import {
  benchArgs,
  openBenchSocket,
  percentile,
  startBenchEdge,
  type BenchEdge,
} from '@fleetwire/bench-kit';
import { LocalPostgres, LocalRedis } from '@fleetwire/testkit';
import type WebSocket from 'ws';

const { values } = parseArgs({
  args: benchArgs(),
  options: {
    devices: { type: 'string', default: '50' },
    rounds: { type: 'string', default: '20' },
    out: { type: 'string', default: fileURLToPath(new URL('./RESULTS.md', import.meta.url)) },
  },
});
const DEVICES = Number(values.devices);
const ROUNDS = Number(values.rounds);
const ROUND_TIMEOUT_MS = 30_000;
function startEdge(name: string, redisUrl: string, databaseUrl: string): Promise<BenchEdge> {
  return startBenchEdge(name, {
    FLEETWIRE_RATE_PER_SEC: '10000',
    FLEETWIRE_RATE_BURST: '10000',
    FLEETWIRE_REDIS_URL: redisUrl,
    FLEETWIRE_DATABASE_URL: databaseUrl,
  });
}

type Message = Record<string, unknown> & { type: string };

const open = (port: number, sub: string, role: string): Promise<WebSocket> =>
  openBenchSocket(port, sub, role);

/** A device that acks commands and does, then reports, whatever its delta says. */
function device(ws: WebSocket): void {
  ws.on('message', (raw: Buffer) => {
    const m = JSON.parse(raw.toString()) as Message;
    if (m.type === 'command') ws.send(JSON.stringify({ type: 'ack', id: m['id'] }));
    if (m.type === 'state') ws.send(JSON.stringify({ type: 'state.report', reported: m['delta'] }));
  });
}

interface Result {
  name: string;
  loops: number;
  seconds: number;
  p50: number;
  p99: number;
  max: number;
}

/** Runs ROUNDS rounds of `start(deviceId, round)` over every device; each resolves its latency. */
async function rounds(
  name: string,
  ids: string[],
  start: (id: string, round: number) => Promise<number>,
): Promise<Result> {
  const latencies: number[] = [];
  const began = performance.now();
  for (let round = 1; round <= ROUNDS; round += 1) {
    const timeout = new Promise<never>((_, reject) =>
      setTimeout(() => reject(new Error(`${name}: round ${round} timed out`)), ROUND_TIMEOUT_MS),
    );
    latencies.push(
      ...(await Promise.race([Promise.all(ids.map((id) => start(id, round))), timeout])),
    );
  }
  const seconds = (performance.now() - began) / 1000;
  latencies.sort((a, b) => a - b);
  return {
    name,
    loops: latencies.length,
    seconds,
    p50: percentile(latencies, 0.5),
    p99: percentile(latencies, 0.99),
    max: latencies[latencies.length - 1] ?? NaN,
  };
}

async function main(): Promise<void> {
  const redis = await LocalRedis.launch();
  const postgres = await LocalPostgres.launch();
  const migrator = createPgClient({ connectionString: postgres.url });
  await migrate(migrator);
  await migrator.close();
  const a = await startEdge('edge-a', redis.url, postgres.url);
  const b = await startEdge('edge-b', redis.url, postgres.url);
  try {
    const ids = Array.from({ length: DEVICES }, (_, i) => `lamp-${i}`);
    for (const ws of await Promise.all(ids.map((id) => open(a.port, id, 'device')))) device(ws);
    const service = await open(b.port, 'bench-service', 'service');
    const waiting = new Map<string, (message: Message) => void>();
    service.on('message', (raw: Buffer) => {
      const m = JSON.parse(raw.toString()) as Message;
      const key =
        m.type === 'message'
          ? `state:${String(m['from'])}`
          : m.type === 'ack'
            ? `ack:${String(m['id'])}`
            : '';
      waiting.get(key)?.(m);
    });
    await new Promise<void>((resolve) => {
      waiting.set('ack:s', () => resolve());
      service.send(JSON.stringify({ type: 'subscribe', id: 's', topics: ['devices/+/state'] }));
    });

    const command = await rounds('command round trip (baseline)', ids, (id, round) => {
      const started = performance.now();
      const commandId = `c-${id}-${round}`;
      return new Promise((resolve) => {
        waiting.set(`ack:${commandId}`, () => {
          waiting.delete(`ack:${commandId}`);
          resolve(performance.now() - started);
        });
        service.send(JSON.stringify({ type: 'command', id: commandId, target: id, name: 'led' }));
      });
    });
    const state = await rounds(
      'state loop (set → device → report → delta closed)',
      ids,
      (id, round) => {
        const started = performance.now();
        const led = round % 2 === 0;
        return new Promise((resolve) => {
          // The change the device's report makes: its `from` is the device, its delta empty.
          waiting.set(`state:${id}`, (m) => {
            const doc = m['data'] as { delta: object; desired: { led?: boolean } };
            if (Object.keys(doc.delta).length > 0 || doc.desired.led !== led) return;
            waiting.delete(`state:${id}`);
            resolve(performance.now() - started);
          });
          service.send(JSON.stringify({ type: 'state.set', target: id, desired: { led } }));
        });
      },
    );

    const ms = (v: number): string => v.toFixed(2);
    const rows = [command, state].map(
      (r) =>
        `| ${r.name} | ${r.loops} | ${(r.loops / r.seconds).toFixed(0)} | ${ms(r.p50)} | ${ms(r.p99)} | ${ms(r.max)} |`,
    );
    const report = [
      '# Device state loop across two edges',
      '',
      `${DEVICES} devices on edge A, one service on edge B, ${ROUNDS} rounds (every device at once),`,
      'two edge processes over a local Redis and PostgreSQL 15 (testkit), on a shared 2-core machine.',
      `Command: \`pnpm --filter @fleetwire/load-tests-state bench -- --devices ${DEVICES} --rounds ${ROUNDS}\`.`,
      '',
      '| loop | loops | loops/s | p50 ms | p99 ms | max ms |',
      '| ---- | ----- | ------- | ------ | ------ | ------ |',
      ...rows,
      '',
      `Ratios to the baseline measured in the same run: p50 ×${(state.p50 / command.p50).toFixed(1)}, ` +
        `p99 ×${(state.p99 / command.p99).toFixed(1)}, loops/s ×${(state.loops / state.seconds / (command.loops / command.seconds)).toFixed(2)}.`,
      'The state loop crosses the bus as often as a command (B→A to the device’s inbox, A→B with the',
      'change) and adds two database transactions (the set, the report), each waiting for one of the',
      'edge’s 4 pooled connections (FLEETWIRE_DB_POOL_SIZE) while the 50 devices’ rounds run at once.',
    ].join('\n');
    process.stdout.write(`${report}\n`);
    writeFileSync(values.out as string, `${report}\n`);
    service.close();
  } finally {
    a.child.kill('SIGTERM');
    b.child.kill('SIGTERM');
    await redis.dispose();
    await postgres.dispose();
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`${(error as Error).stack ?? String(error)}\n`);
    process.exit(1);
  },
);

import { fileURLToPath } from 'node:url';

import {
  killServicesFromSource,
  runServiceFromSource,
  testRedis,
  type ServiceFromSource,
  type TestRedis,
} from '@fleetwire/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';

import { SECRET, TestClient, expectCommandRoundTrip, httpGet, mintToken } from '../test-support.js';

const PACKAGE_DIR = fileURLToPath(new URL('../..', import.meta.url));

/** A client and the worker its connection landed on (the welcome's node id ends in -w<n>). */
interface Placed {
  client: TestClient;
  worker: number;
}

let redis: TestRedis;
let edge: ServiceFromSource;
let url: string;
let port: number;
const open: TestClient[] = [];

async function place(claims: Parameters<typeof mintToken>[0]): Promise<Placed> {
  const client = new TestClient(`${url}?token=${mintToken(claims)}`);
  await client.opened;
  const welcome = await client.next();
  const worker = Number(/-w(\d+)$/.exec(String(welcome['node']))?.[1]);
  open.push(client);
  return { client, worker };
}

/**
 * A client on the given worker: the kernel hashes each new connection to one of the listen
 * sockets, so connect until one lands there (each try lands there half the time).
 */
async function on(worker: number, claims: Parameters<typeof mintToken>[0]): Promise<TestClient> {
  for (let tries = 0; tries < 40; tries++) {
    const placed = await place(claims);
    if (placed.worker === worker) return placed.client;
    open.splice(open.indexOf(placed.client), 1);
    await placed.client.close();
  }
  throw new Error(`no connection landed on worker ${worker} in 40 tries`);
}

/** The value of each series of a metric family in the exposition text, by its labels. */
function series(text: string, name: string): Map<string, number> {
  const found = new Map<string, number>();
  for (const line of text.split('\n')) {
    const match = new RegExp(`^${name}(\\{[^}]*\\})? (\\S+)$`).exec(line);
    if (match) found.set(match[1] ?? '', Number(match[2]));
  }
  return found;
}

const sum = (values: Map<string, number>): number =>
  [...values.values()].reduce((total, value) => total + value, 0);

beforeAll(async () => {
  redis = await testRedis();
  edge = runServiceFromSource({
    packageDir: PACKAGE_DIR,
    entry: 'src/main.ts',
    env: {
      FLEETWIRE_HOST: '127.0.0.1',
      FLEETWIRE_PORT: '0',
      FLEETWIRE_JWT_HS256_SECRET: SECRET,
      FLEETWIRE_JWT_ISSUER: 'fleetwire-test',
      FLEETWIRE_JWT_AUDIENCE: 'fleetwire',
      FLEETWIRE_REDIS_URL: redis.url,
      FLEETWIRE_REDIS_PREFIX: redis.keyPrefix,
      FLEETWIRE_WORKERS: '2',
      FLEETWIRE_DRAIN_WINDOW_MS: '300',
      FLEETWIRE_RATE_PER_SEC: '10000',
      FLEETWIRE_RATE_BURST: '10000',
    },
  });
  port = await edge.listening;
  url = `ws://127.0.0.1:${port}/ws`;
}, 60_000);

afterAll(async () => {
  for (const client of open) client.ws.terminate();
  killServicesFromSource();
  await redis.close();
});

describe('an edge process of two workers (FLEETWIRE_WORKERS=2) over Redis', () => {
  it('serves both workers on one port, ready on each', async () => {
    const workers = new Set<number>();
    for (let n = 0; n < 40 && workers.size < 2; n++)
      workers.add((await place({ sub: `probe-${n}`, role: 'device' })).worker);
    expect([...workers].sort()).toEqual([0, 1]);
    const ready = await httpGet(port, '/readyz');
    expect(ready.status).toBe(200);
  });

  it('device on one worker → dashboard on the other, in order, both ways', async () => {
    for (const [from, to] of [
      [0, 1],
      [1, 0],
    ] as const) {
      const dashboard = await on(to, { sub: `ops-${to}`, role: 'dashboard' });
      dashboard.send({ type: 'subscribe', id: 's', topics: [`devices/car-${from}/telemetry`] });
      expect(await dashboard.next()).toEqual({ type: 'ack', id: 's' });
      const device = await on(from, { sub: `car-${from}`, role: 'device' });
      for (let n = 0; n < 30; n++) device.send({ type: 'telemetry', data: { n } });
      device.send({ type: 'telemetry', id: 'last', data: { n: 30 } });
      expect(await device.next()).toEqual({ type: 'ack', id: 'last' });
      const ns: number[] = [];
      for (let n = 0; n <= 30; n++) {
        const message = await dashboard.next();
        expect(message).toMatchObject({ type: 'message', kind: 'telemetry', from: `car-${from}` });
        ns.push((message['data'] as { n: number }).n);
      }
      expect(ns).toEqual([...Array(31).keys()]);
      expect(await dashboard.roundTrip()).toEqual([]);
    }
  });

  it('command from a dashboard on one worker → device on the other → ack back', async () => {
    const device = await on(0, { sub: 'truck-1', role: 'device' });
    const dashboard = await on(1, { sub: 'ops', role: 'dashboard' });
    await expectCommandRoundTrip(dashboard, device, 'truck-1');
  });

  it('/metrics on either worker answers the sum over both, with each worker’s connections', async () => {
    const byWorker = [0, 0];
    const placed = await Promise.all(
      [...Array(6).keys()].map((n) => place({ sub: `counted-${n}`, role: 'device' })),
    );
    for (const p of placed) byWorker[p.worker]! += 1;
    const openNow = open.filter((c) => c.ws.readyState === WebSocket.OPEN).length;
    // Whichever worker answers, the answer is the process's.
    const answers: string[] = [];
    for (let n = 0; n < 8; n++) answers.push((await httpGet(port, '/metrics')).body);
    for (const text of answers) {
      expect(sum(series(text, 'fleetwire_edge_connections'))).toBe(openNow);
      const perWorker = series(text, 'fleetwire_edge_worker_connections');
      expect(perWorker.size).toBe(2);
      expect(sum(perWorker)).toBe(openNow);
      // Process-wide series once, not once per worker.
      expect(series(text, 'process_resident_memory_bytes').size).toBe(1);
      // Up only while every worker is: the lowest, not the sum.
      expect([...series(text, 'fleetwire_edge_bus_ready').values()]).toEqual([1]);
    }
    expect(byWorker[0]! + byWorker[1]!).toBe(6);
  });

  it('SIGTERM drains every worker: 1012 to every socket, exit 0', async () => {
    const clients = open.filter((c) => c.ws.readyState === WebSocket.OPEN);
    expect(clients.length).toBeGreaterThan(4);
    edge.child.kill('SIGTERM');
    for (const closed of await Promise.all(clients.map((c) => c.closed))) {
      expect(closed).toEqual({ code: 1012, reason: 'server draining' });
    }
    expect((await edge.exited).code).toBe(0);
    const drained = edge.lines.filter((l) => l['msg'] === 'drained').map((l) => l['worker']);
    expect(drained.sort()).toEqual([0, 1]);
  }, 30_000);
});

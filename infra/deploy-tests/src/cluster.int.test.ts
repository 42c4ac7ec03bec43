import { randomBytes } from 'node:crypto';

import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { FleetSocket } from './fleet-socket.js';
import { LocalCluster } from './local-cluster.js';
import { SimulatedDevice } from './simulated-device.js';
import { mintToken, type TokenIssuer } from './tokens.js';

/**
 * The local cluster of infra/local/cluster.sh — Redis, Kafka, PostgreSQL, two edge nodes, an
 * ingest worker, HAProxy terminating TLS — driven over wss through HAProxy only.
 */
const DEVICES = 10;
const TENANT = `e2e-${randomBytes(4).toString('hex')}`;

let cluster: LocalCluster;
let issuer: TokenIssuer;
const devices: SimulatedDevice[] = [];
const dashboards: FleetSocket[] = [];

function device(id: string): SimulatedDevice {
  return new SimulatedDevice({
    id,
    url: cluster.endpoints.url,
    ca: cluster.endpoints.ca,
    token: () => mintToken(issuer, { sub: id, role: 'device', tenant: TENANT }),
    reconnectDelayMs: 100,
  });
}

async function dashboard(sub: string): Promise<{ socket: FleetSocket; node: string }> {
  const socket = new FleetSocket({
    url: cluster.endpoints.url,
    ca: cluster.endpoints.ca,
    token: mintToken(issuer, { sub, role: 'dashboard', tenant: TENANT }),
  });
  dashboards.push(socket);
  const welcome = await socket.welcome;
  const subscribed = await socket.request({
    type: 'subscribe',
    id: 's1',
    topics: ['devices/+/telemetry', 'devices/+/presence'],
  });
  expect(subscribed).toEqual({ type: 'ack', id: 's1' });
  return { socket, node: String(welcome['node']) };
}

/** Distinct telemetry message ids the ingest worker stored for this run's tenant. */
async function storedIds(): Promise<Set<string>> {
  const client = new pg.Client({ connectionString: cluster.endpoints.databaseUrl });
  await client.connect();
  try {
    const { rows } = await client.query<{ msg_id: string }>(
      'select distinct msg_id from telemetry where tenant = $1',
      [TENANT],
    );
    return new Set(rows.map((r) => r.msg_id));
  } finally {
    await client.end();
  }
}

/** Polls PostgreSQL until `expected` ids are stored (ingest writes in batches, asynchronously). */
async function waitForStored(expected: number, deadlineMs: number): Promise<Set<string>> {
  const deadline = Date.now() + deadlineMs;
  for (;;) {
    const ids = await storedIds();
    if (ids.size >= expected || Date.now() > deadline) return ids;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

function countBy<T>(items: T[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const item of items) counts[String(item)] = (counts[String(item)] ?? 0) + 1;
  return counts;
}

beforeAll(async () => {
  cluster = await LocalCluster.start({
    edges: 2,
    drainWindowMs: 1000,
    env: {
      PATH: process.env['PATH'] ?? '',
      HOME: process.env['HOME'] ?? '',
      ...(process.env['FLEETWIRE_CACHE']
        ? { FLEETWIRE_CACHE: process.env['FLEETWIRE_CACHE'] }
        : {}),
      ...(process.env['FLEETWIRE_KAFKA_LIBS']
        ? { FLEETWIRE_KAFKA_LIBS: process.env['FLEETWIRE_KAFKA_LIBS'] }
        : {}),
    },
  });
  issuer = {
    secret: cluster.endpoints.jwtSecret,
    issuer: cluster.endpoints.jwtIssuer,
    audience: cluster.endpoints.jwtAudience,
  };
}, 150_000);

afterAll(async () => {
  await Promise.allSettled([...devices, ...dashboards].map((c) => c.close()));
  await cluster?.stop();
}, 120_000);

describe('local cluster over wss through HAProxy', () => {
  it('round robin spreads devices evenly over both edge nodes', async () => {
    // One at a time, so the balancer's rotation decides alone (HAProxy runs one thread).
    for (let i = 1; i <= DEVICES; i++) {
      const d = device(`dev-${String(i).padStart(2, '0')}`);
      devices.push(d);
      await d.connect();
    }
    expect(countBy(devices.map((d) => d.node))).toEqual({
      'edge-1': DEVICES / 2,
      'edge-2': DEVICES / 2,
    });
  });

  it('a dashboard on each node sees the telemetry of every device, across nodes', async () => {
    const a = await dashboard('ops-a');
    const b = await dashboard('ops-b');
    // The rotation goes on: the two dashboards land on different nodes.
    expect([a.node, b.node].sort()).toEqual(['edge-1', 'edge-2']);

    const ids = devices.map((d) => d.sendTelemetry({ temp: 20, phase: 'spread' }));
    await Promise.all(devices.map((d) => d.allAcked()));
    for (const { socket } of [a, b]) {
      const seen = await Promise.all(
        ids.map((id) =>
          socket.waitFor(
            (m) => m.type === 'message' && m['kind'] === 'telemetry' && m['id'] === id,
          ),
        ),
      );
      expect(seen.map((m) => m['from']).sort()).toEqual(devices.map((d) => d.id).sort());
      expect(seen.every((m) => m['topic'] === `devices/${m['from']}/telemetry`)).toBe(true);
    }
  });

  it('a command from a dashboard reaches a device on the other node and its ack comes back', async () => {
    const { socket, node } = await dashboard('ops-c');
    const target = devices.find((d) => d.node !== node)!;
    const answer = await socket.request({
      type: 'command',
      id: 'c-e2e-1',
      target: target.id,
      name: 'blink',
      timeoutMs: 5000,
    });
    expect(answer).toEqual({
      type: 'ack',
      id: 'c-e2e-1',
      result: { device: target.id, name: 'blink' },
    });
    expect(target.commands).toEqual(['c-e2e-1']);
  });

  it('killing an edge node moves its devices to the other, and every acked message is in PostgreSQL', async () => {
    const [watcher] = dashboards;
    const victim = 'edge-1';
    const survivor = 'edge-2';
    const moving = devices.filter((d) => d.node === victim);
    expect(moving).toHaveLength(DEVICES / 2);
    const watcherNode = String((await watcher!.welcome)['node']);
    const observer = watcherNode === survivor ? watcher! : dashboards[1]!;

    // Telemetry keeps flowing from every device while the node dies under it.
    const pump = setInterval(() => {
      for (const d of devices) d.sendTelemetry({ temp: 21, phase: 'failover' });
    }, 50);
    try {
      await Promise.all(devices.map((d) => new Promise((resolve) => d.once('acked', resolve))));
      await cluster.kill(victim);
      const moved = await Promise.all(moving.map((d) => d.movedAwayFrom(victim)));
      expect(moved).toEqual(moving.map(() => survivor));
    } finally {
      clearInterval(pump);
    }
    for (const d of moving) expect(d.lostWith).toEqual([1006]);

    // The dashboard on the surviving node sees every moved device come online there.
    for (const d of moving) {
      const online = await observer.waitFor(
        (m) =>
          m['kind'] === 'presence' &&
          m['from'] === d.id &&
          (m['data'] as { online?: boolean; node?: string }).node?.startsWith(survivor) === true,
      );
      expect(online['data']).toMatchObject({ online: true });
    }

    // Messages in flight at the crash were sent again after the reconnect: all end up acked.
    await Promise.all(devices.map((d) => d.allAcked()));
    const sent = devices.flatMap((d) => d.sent);
    const acked = devices.flatMap((d) => [...d.acked]);
    expect(acked.sort()).toEqual([...sent].sort());

    const stored = await waitForStored(sent.length, 30_000);
    const missing = acked.filter((id) => !stored.has(id));
    expect(missing).toEqual([]);
    expect(stored.size).toBe(sent.length);
  }, 90_000);
});

/**
 * Rollout simulation on the local cluster (infra/local/cluster.sh): a fleet of SDK devices
 * (@fleetwire/client) behind HAProxy, every edge replaced one by one, reconnects counted per
 * device. Strategies:
 *   in-place   SIGTERM → drain → restart in the same slot (maxSurge 0, maxUnavailable 1)
 *   surge      a new edge is up before an old one drains (maxSurge 1, maxUnavailable 0, as
 *              k8s/base/edge-deployment.yaml), under HAProxy's roundrobin, random(2) (Envoy's
 *              default LeastRequest: the less loaded of two random hosts) or leastconn (a full
 *              least-connections scan)
 * Every device sends telemetry with ids through the whole run; "lost" counts the ones never acked
 * or not in PostgreSQL at the end. Used by load-tests/rollout (the benchmark and its RESULTS.md).
 */
import { randomBytes } from 'node:crypto';

import pg from 'pg';
import WebSocket from 'ws';

import type * as ClientSdk from '../../../packages/client/src/index.js';
import type { FleetwireClient as Client } from '../../../packages/client/src/index.js';
import { LocalCluster } from './local-cluster.js';
import { mintToken, type TokenIssuer } from './tokens.js';

export type Strategy = 'in-place' | 'surge';

export interface RolloutOptions {
  strategy: Strategy;
  balance: 'roundrobin' | 'leastconn' | 'random(2)';
  edges: number;
  devices: number;
  drainWindowMs: number;
  /** Each device sends one telemetry message with an id this often. */
  telemetryEveryMs: number;
  /** The whole run (start to stop) is cut after this. */
  deadlineMs: number;
  env: NodeJS.ProcessEnv;
  log?: (line: string) => void;
}

export interface RolloutResult {
  strategy: string;
  balance: string;
  edges: number;
  devices: number;
  /** Reconnects per device over the rollout (welcomes after the first). */
  reconnects: number[];
  p50: number;
  p90: number;
  max: number;
  movedAtMostOnce: number;
  sent: number;
  acked: number;
  stored: number;
  lost: number;
  rolloutSeconds: number;
}

type ClientModule = typeof ClientSdk;

/** The SDK from its sources when running from sources (tsx), else from its build. */
async function loadClient(): Promise<ClientModule> {
  const fromSource = import.meta.url.endsWith('.ts');
  const url = new URL(
    fromSource ? '../../../packages/client/src/index.ts' : '../../../packages/client/dist/index.js',
    import.meta.url,
  );
  return (await import(url.href)) as ClientModule;
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? NaN;
}

async function until(what: string, check: () => boolean, deadline: number): Promise<void> {
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export async function simulateRollout(options: RolloutOptions): Promise<RolloutResult> {
  const log = options.log ?? (() => {});
  const started = Date.now();
  const deadline = started + options.deadlineMs;
  const { FleetwireClient } = await loadClient();
  const cluster = await LocalCluster.start({
    edges: options.edges,
    spareEdges: options.strategy === 'surge' ? 1 : 0,
    balance: options.balance,
    drainWindowMs: options.drainWindowMs,
    env: options.env,
  });
  const tenant = `rollout-${randomBytes(4).toString('hex')}`;
  const issuer: TokenIssuer = {
    secret: cluster.endpoints.jwtSecret,
    issuer: cluster.endpoints.jwtIssuer,
    audience: cluster.endpoints.jwtAudience,
  };
  const ca = cluster.endpoints.ca;
  // The SDK takes a WebSocket constructor: `ws` trusting the cluster's self-signed certificate.
  class ClusterWebSocket extends WebSocket {
    constructor(url: string, protocols?: string | string[]) {
      super(url, protocols, { ca });
    }
  }
  const welcomes = new Map<string, string[]>();
  const clients: Client[] = [];
  const acked = new Set<string>();
  const sentIds: string[] = [];
  let sending = true;
  let rolloutSeconds = 0;
  try {
    for (let i = 0; i < options.devices; i++) {
      const id = `dev-${String(i).padStart(5, '0')}`;
      welcomes.set(id, []);
      const client = new FleetwireClient({
        url: cluster.endpoints.url,
        token: () => mintToken(issuer, { sub: id, role: 'device', tenant }),
        WebSocket: ClusterWebSocket as never,
        ackTimeoutMs: 3000,
      });
      client.on('welcome', (w) => welcomes.get(id)!.push(String(w.node)));
      clients.push(client);
    }
    // Connected a batch at a time, as a fleet comes online.
    for (let i = 0; i < clients.length; i += 50)
      await Promise.all(clients.slice(i, i + 50).map((c) => c.connect()));
    const before = new Map<string, number>();
    for (const nodes of welcomes.values()) before.set(nodes[0]!, (before.get(nodes[0]!) ?? 0) + 1);
    log(`connected ${clients.length} devices: ${JSON.stringify(Object.fromEntries(before))}`);

    // Telemetry with ids from every device, spread over the period, until the rollout is over.
    let seq = 0;
    const senders = clients.map((client, i) => {
      const deviceId = `dev-${String(i).padStart(5, '0')}`;
      return (async () => {
        await new Promise((r) => setTimeout(r, (i * options.telemetryEveryMs) / clients.length));
        while (sending) {
          const msgId = `${deviceId}-${seq++}`;
          sentIds.push(msgId);
          client
            .telemetry({ n: seq }, { id: msgId })
            .then(() => acked.add(msgId))
            .catch(() => {});
          await new Promise((r) => setTimeout(r, options.telemetryEveryMs));
        }
      })();
    });

    const rolloutStart = Date.now();
    const name = (slot: number): string => `edge-${slot}`;
    if (options.strategy === 'in-place') {
      for (let slot = 1; slot <= options.edges; slot++) {
        await cluster.drain(name(slot));
        await cluster.up(name(slot));
        log(`rolled ${name(slot)} in place`);
      }
    } else {
      let spare = options.edges + 1;
      for (let slot = 1; slot <= options.edges; slot++) {
        await cluster.up(name(spare));
        await cluster.drain(name(slot));
        log(`rolled ${name(slot)} → ${name(spare)}`);
        spare = slot;
      }
    }
    rolloutSeconds = (Date.now() - rolloutStart) / 1000;
    // Every device back, then one more period of telemetry, then stop sending.
    await until(
      'every device connected',
      () => clients.every((c) => c.state === 'connected'),
      deadline,
    );
    await new Promise((r) => setTimeout(r, options.telemetryEveryMs));
    sending = false;
    await Promise.all(senders);
    await until('every message acked', () => sentIds.every((id) => acked.has(id)), deadline).catch(
      (error: unknown) => log(String(error)),
    );
    const stored = await storedIds(cluster.endpoints.databaseUrl, tenant, sentIds.length, deadline);
    const reconnects = [...welcomes.values()].map((nodes) => nodes.length - 1);
    const sorted = [...reconnects].sort((a, b) => a - b);
    const lost = sentIds.filter((id) => !acked.has(id) || !stored.has(id)).length;
    return {
      strategy: options.strategy,
      balance: options.balance,
      edges: options.edges,
      devices: options.devices,
      reconnects,
      p50: percentile(sorted, 0.5),
      p90: percentile(sorted, 0.9),
      max: sorted[sorted.length - 1] ?? NaN,
      movedAtMostOnce: reconnects.filter((r) => r <= 1).length,
      sent: sentIds.length,
      acked: acked.size,
      stored: stored.size,
      lost,
      rolloutSeconds,
    };
  } finally {
    sending = false;
    for (const client of clients) client.close();
    await cluster.stop();
  }
}

/** Polls PostgreSQL until `expected` ids of `tenant` are stored or the deadline passes. */
async function storedIds(
  databaseUrl: string,
  tenant: string,
  expected: number,
  deadline: number,
): Promise<Set<string>> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    for (;;) {
      const { rows } = await client.query<{ msg_id: string }>(
        'select distinct msg_id from telemetry where tenant = $1',
        [tenant],
      );
      const ids = new Set(rows.map((r) => r.msg_id));
      if (ids.size >= expected || Date.now() > deadline) return ids;
      await new Promise((r) => setTimeout(r, 200));
    }
  } finally {
    await client.end();
  }
}

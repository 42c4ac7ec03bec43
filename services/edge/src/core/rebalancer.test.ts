import { MemoryPresence, type NodeLoad, type PresenceStore } from '@fleetwire/bus';
import { createRegistry } from '@fleetwire/metrics';
import { CloseCode, CloseReason } from '@fleetwire/protocol';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';

import { EdgeMetrics } from '../metrics.js';
import { valueOf } from '../test-support.js';
import type { Connection } from './connection.js';
import { DependencyFailures } from './dependency-failures.js';
import { Rebalancer } from './rebalancer.js';

const HEARTBEAT_MS = 1_000;

/** A connection that records how it was ended. */
function connection(ends: Map<number, { code: number; reason: string }>, id: number): Connection {
  return {
    end: (code: number, reason: string) => {
      if (!ends.has(id)) ends.set(id, { code, reason });
    },
  } as unknown as Connection;
}

function setup(options: { store?: PresenceStore; accepting?: () => boolean; own?: number } = {}) {
  const store = options.store ?? new MemoryPresence(3 * HEARTBEAT_MS);
  const ends = new Map<number, { code: number; reason: string }>();
  let open = Array.from({ length: options.own ?? 100 }, (_, i) => connection(ends, i));
  const metrics = new EdgeMetrics(createRegistry({ service: 'edge', node: 'test' }));
  const lines: Record<string, unknown>[] = [];
  const logger = pino(
    { level: 'info' },
    { write: (line: string) => void lines.push(JSON.parse(line)) },
  );
  const rebalancer = new Rebalancer({
    store,
    nodeId: 'me',
    settings: { tolerance: 0.2, fraction: 0.1, intervalMs: 1_000 },
    heartbeatMs: HEARTBEAT_MS,
    connections: () => open.filter((_, i) => !ends.has(i)),
    accepting: options.accepting ?? (() => true),
    metrics,
    logger,
    failures: new DependencyFailures(logger, { intervalMs: 0 }),
  });
  return {
    store,
    ends,
    metrics,
    lines,
    rebalancer,
    setOpen: (n: number) => (open = open.slice(0, n)),
  };
}

describe('Rebalancer', () => {
  it('closes the planned number of distinct connections with 1012 "rebalancing", and counts them', async () => {
    const { store, ends, metrics, lines, rebalancer } = setup();
    const now = Date.now();
    await store.renew([], 'me', now, 100);
    await store.renew([], 'peer', now, 0);
    expect(await rebalancer.tick(now + 10)).toMatchObject({ decision: 'shed', shed: 10 });
    expect(ends.size).toBe(10);
    for (const end of ends.values()) {
      expect(end).toEqual({ code: CloseCode.ServiceRestart, reason: CloseReason.Rebalance });
    }
    expect(await valueOf(metrics.rebalanceShed)).toBe(10);
    expect(lines.filter((l) => String(l['msg']).startsWith('rebalance'))).toHaveLength(1);

    // Until the peer renews a heartbeat after the shed, its count misses the reconnects.
    expect(await rebalancer.tick(now + 20)).toMatchObject({ decision: 'waiting', shed: 0 });
    await store.renew([], 'peer', now + 30, 5);
    expect(await rebalancer.tick(now + 40)).toMatchObject({ decision: 'waiting', shed: 0 });
    await store.renew([], 'peer', now + 10 + HEARTBEAT_MS, 5);
    expect(await rebalancer.tick(now + 20 + HEARTBEAT_MS)).toMatchObject({
      decision: 'shed',
      shed: 9,
    });
    expect(ends.size).toBe(19);
    expect(await valueOf(metrics.rebalanceShed)).toBe(19);
    expect(rebalancer.rounds).toBe(4);
  });

  it('leaves its own heartbeat out of the peers', async () => {
    const { store, ends, rebalancer } = setup();
    const now = Date.now();
    await store.renew([], 'me', now, 0);
    expect(await rebalancer.tick(now)).toMatchObject({ decision: 'alone', shed: 0 });
    expect(ends.size).toBe(0);
  });

  it('sheds nothing while the node drains (the drain closes everything itself)', async () => {
    const { store, ends, rebalancer } = setup({ accepting: () => false });
    const now = Date.now();
    await store.renew([], 'peer', now, 0);
    expect(await rebalancer.tick(now)).toBeUndefined();
    expect(ends.size).toBe(0);
    expect(rebalancer.rounds).toBe(0);
  });

  it('without the peers’ counts (the store is down) it decides nothing and logs the failure', async () => {
    const failing = {
      nodeLoads: async (): Promise<NodeLoad[]> => {
        throw Object.assign(new Error('Connection is closed.'), { code: 'ECONNREFUSED' });
      },
    } as unknown as PresenceStore;
    const { ends, lines, rebalancer } = setup({ store: failing });
    expect(await rebalancer.tick()).toBeUndefined();
    expect(ends.size).toBe(0);
    expect(lines).toEqual([
      expect.objectContaining({ dependency: 'presence', msg: 'presence operations failed' }),
    ]);
  });
});

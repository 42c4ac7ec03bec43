import { RedisPresence } from '@fleetwire/bus';
import { CloseCode, CloseReason } from '@fleetwire/protocol';
import { testRedis, waitFor, type TestRedis } from '@fleetwire/testkit';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

import { TestClient, mintToken, valueOf, type TestEdge, startRedisEdge } from './test-support.js';

// Presence TTL 1 s: heartbeats (with each node's connection count) every 333 ms.
const TTL_MS = 1_000;
const DEVICES = 40;
const closers: (() => Promise<void> | void)[] = [];

let redis: TestRedis;
beforeAll(async () => {
  redis = await testRedis();
});
afterAll(async () => {
  await redis.close();
});
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});

async function node(name: string, prefix: string, env: Record<string, string>): Promise<TestEdge> {
  const edge = await startRedisEdge({
    name,
    redisUrl: redis.url,
    prefix,
    presenceTtlMs: TTL_MS,
    env: { FLEETWIRE_PRESENCE_TTL_SEC: String(TTL_MS / 1000), ...env },
  });
  closers.push(edge.closeAll);
  return edge;
}

/**
 * Devices that come back through a round-robin "load balancer" over the nodes when closed with
 * 1012, as devices behind HAProxy do; every close they saw is kept.
 */
class Fleet {
  readonly closes: { code: number; reason: string }[] = [];
  readonly failures: unknown[] = [];
  private turn = 0;
  private readonly open = new Set<TestClient>();
  private stopped = false;

  constructor(private readonly nodes: TestEdge[]) {
    closers.push(() => this.stop());
  }

  /** Connects `count` devices straight to one node (as after the other one restarted). */
  async connectAll(edge: TestEdge, count: number): Promise<void> {
    for (let i = 0; i < count; i += 1) await this.connect(edge, `car-${i}`);
  }

  get connected(): number {
    return this.open.size;
  }

  private async connect(edge: TestEdge, sub: string): Promise<void> {
    const client = await TestClient.open(edge.url, mintToken({ sub, role: 'device' }));
    this.open.add(client);
    void client.closed.then((close) => {
      this.open.delete(client);
      this.closes.push(close);
      if (this.stopped || close.code !== CloseCode.ServiceRestart) return;
      const next = this.nodes[this.turn++ % this.nodes.length] as TestEdge;
      this.connect(next, sub).catch((error: unknown) => this.failures.push(error));
    });
  }

  stop(): void {
    this.stopped = true;
    for (const client of this.open) client.ws.terminate();
  }
}

describe('connection rebalance (two edges over Redis)', () => {
  it('an edge far over its share sheds toward it with 1012 and stops there', async () => {
    const rebalance = {
      FLEETWIRE_REBALANCE: 'on',
      FLEETWIRE_REBALANCE_INTERVAL_MS: '200',
      FLEETWIRE_REBALANCE_FRACTION: '0.25',
      FLEETWIRE_REBALANCE_TOLERANCE: '0.2',
    };
    const a = await node('rb-a', `${redis.keyPrefix}on:`, rebalance);
    const b = await node('rb-b', `${redis.keyPrefix}on:`, rebalance);
    const fleet = new Fleet([a, b]);
    // All devices on a, as after b restarted: the share is 20, the bound 24.
    await fleet.connectAll(a, DEVICES);

    const settled = () =>
      fleet.connected === DEVICES &&
      a.server.connectionCount + b.server.connectionCount === DEVICES &&
      a.server.connectionCount <= 24;
    await waitFor('a down to its share', settled, 30_000);
    const shed = await valueOf(a.metrics.rebalanceShed);
    expect(shed).toBeGreaterThanOrEqual(16);
    // Never below its share (20); some of its shed devices came back to it through the balancer.
    expect(a.server.connectionCount).toBeGreaterThanOrEqual(20);
    // Every close was a 1012 with the reason, one per shed connection.
    expect(fleet.closes.length).toBe(shed);
    for (const close of fleet.closes) {
      expect(close).toEqual({ code: CloseCode.ServiceRestart, reason: CloseReason.Rebalance });
    }
    expect(fleet.failures).toEqual([]);
    // b is under its share: it sheds nothing.
    expect(await valueOf(b.metrics.rebalanceShed)).toBe(0);

    // Balanced now: more decisions (with fresh heartbeats of b) shed nothing more.
    const rounds = a.server.rebalancer?.rounds ?? 0;
    await waitFor(
      'ten more decisions of a',
      () => (a.server.rebalancer?.rounds ?? 0) >= rounds + 10,
    );
    expect(await valueOf(a.metrics.rebalanceShed)).toBe(shed);
    expect(fleet.closes.length).toBe(shed);
    expect(a.server.connectionCount + b.server.connectionCount).toBe(DEVICES);
  }, 60_000);

  it('off (the default): an edge holding every connection sheds none', async () => {
    const prefix = `${redis.keyPrefix}off:`;
    const a = await node('rb-off-a', prefix, {});
    const b = await node('rb-off-b', prefix, {});
    expect(a.config.rebalance).toBeUndefined();
    expect(a.server.rebalancer).toBeUndefined();
    const fleet = new Fleet([a, b]);
    await fleet.connectAll(a, DEVICES);
    // Both nodes keep reporting their counts: a's peers would see the imbalance.
    const since = Date.now();
    const loads = await RedisPresence.connect({ url: redis.url, prefix, ttlMs: TTL_MS });
    closers.push(() => loads.close());
    await waitFor(
      'several heartbeats of both nodes showing 40 and 0',
      async () => {
        const seen = await loads.nodeLoads(Date.now());
        const of = (name: string) => seen.find((load) => load.node === name);
        return (
          of('rb-off-a')?.connections === DEVICES &&
          of('rb-off-b')?.connections === 0 &&
          (of('rb-off-a')?.at ?? 0) > since + 3 * (TTL_MS / 3) &&
          (of('rb-off-b')?.at ?? 0) > since + 3 * (TTL_MS / 3)
        );
      },
      30_000,
    );
    expect(fleet.closes).toEqual([]);
    expect(a.server.connectionCount).toBe(DEVICES);
    expect(await valueOf(a.metrics.rebalanceShed)).toBe(0);
  }, 60_000);
});

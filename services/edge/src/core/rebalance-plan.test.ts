import { describe, expect, it } from 'vitest';

import { planRebalance, type RebalanceInput } from './rebalance-plan.js';

const NOW = 1_000_000;
const settings = { tolerance: 0.2, fraction: 0.05 };

function plan(own: number, peers: number[], extra: Partial<RebalanceInput> = {}) {
  return planRebalance({
    own,
    peers: peers.map((connections, i) => ({ node: `peer-${i}`, connections, at: NOW - 1_000 })),
    now: NOW,
    freshMs: 25_000,
    lastShedAt: undefined,
    settleMs: 2_000,
    settings,
    ...extra,
  });
}

describe('planRebalance', () => {
  it('a node far over its share sheds a fraction of its connections', () => {
    // A peer came back empty: the share is 500, this node holds twice that.
    expect(plan(1000, [0])).toEqual({ decision: 'shed', shed: 50, share: 500 });
    expect(plan(900, [300, 300])).toEqual({ decision: 'shed', shed: 45, share: 500 });
  });

  it('within share × (1 + tolerance) it sheds nothing', () => {
    expect(plan(600, [400])).toEqual({ decision: 'balanced', shed: 0, share: 500 });
    expect(plan(500, [500])).toMatchObject({ decision: 'balanced', shed: 0 });
    // Under its share: never.
    expect(plan(10, [1000, 1000])).toMatchObject({ decision: 'balanced', shed: 0 });
    // Just over the bound sheds.
    expect(plan(601, [399])).toMatchObject({ decision: 'shed', shed: 31 });
  });

  it('never sheds below the share: a small excess does not bounce between nodes', () => {
    // 3 connections on 2 nodes: 2 here is over 1.5 × 1.2, but shedding one would make it 1.
    expect(plan(2, [1])).toEqual({ decision: 'balanced', shed: 0, share: 1.5 });
    expect(plan(1, [0])).toEqual({ decision: 'balanced', shed: 0, share: 0.5 });
    // Two on one node and none on the other: one moves, never both.
    expect(plan(2, [0])).toEqual({ decision: 'shed', shed: 1, share: 1 });
    // A large fraction is capped at the excess over the share.
    expect(plan(100, [0], { settings: { tolerance: 0.2, fraction: 0.5 } })).toMatchObject({
      shed: 50,
    });
    expect(plan(100, [60], { settings: { tolerance: 0.2, fraction: 0.5 } })).toMatchObject({
      shed: 20,
    });
  });

  it('alone, or with only stale peers, it sheds nothing', () => {
    expect(plan(1000, [])).toEqual({ decision: 'alone', shed: 0, share: 0 });
    // A peer that stopped renewing (died): its connections came here, its count is old.
    const dead = [{ node: 'dead', connections: 0, at: NOW - 30_000 }];
    expect(plan(1000, [], { peers: dead })).toMatchObject({ decision: 'alone', shed: 0 });
    // The dead peer is left out of the share: 1000 vs a live peer's 900 is balanced.
    const peers = [...dead, { node: 'live', connections: 900, at: NOW - 1_000 }];
    expect(plan(1000, [], { peers })).toMatchObject({ decision: 'balanced', share: 950 });
  });

  it('after a shed it waits until every peer renewed once the reconnects landed, then decides on the new counts', () => {
    const lastShedAt = NOW - 5_000;
    const peers = [
      { node: 'a', connections: 0, at: NOW - 6_000 },
      { node: 'b', connections: 10, at: NOW - 1_000 },
    ];
    expect(plan(900, [], { peers, lastShedAt })).toMatchObject({ decision: 'waiting', shed: 0 });
    // Renewed after the shed, but within the settle time: the reconnects may be missing.
    const early = peers.map((p) => ({ ...p, at: lastShedAt + 1_999 }));
    expect(plan(900, [], { peers: early, lastShedAt })).toMatchObject({ decision: 'waiting' });
    const renewed = peers.map((p) => ({ ...p, connections: p.connections + 20, at: NOW - 100 }));
    expect(plan(880, [], { peers: renewed, lastShedAt })).toMatchObject({
      decision: 'shed',
      shed: 44,
    });
    // Balanced by then: no wait needed to say so.
    const balanced = peers.map((p) => ({ ...p, connections: 300 }));
    expect(plan(300, [], { peers: balanced, lastShedAt })).toMatchObject({
      decision: 'balanced',
    });
  });

  it('converges: repeated decisions with the shed connections spread evenly stop at the bound', () => {
    // Three nodes, one restarted empty; reconnects are spread over all three (round robin).
    let counts = [1500, 1500, 0];
    const sheds: number[] = [];
    for (let round = 0; round < 200; round += 1) {
      const next = [...counts];
      let moved = 0;
      counts.forEach((own, i) => {
        const peers = counts.filter((_, j) => j !== i);
        const { shed } = plan(own, peers);
        next[i] = (next[i] ?? 0) - shed;
        moved += shed;
      });
      sheds.push(moved);
      counts = next.map((c) => c + moved / 3);
      if (moved === 0) break;
    }
    expect(sheds.at(-1)).toBe(0);
    expect(sheds.length).toBeLessThan(60);
    for (const c of counts) expect(c).toBeLessThanOrEqual(1000 * 1.2);
    expect(counts.reduce((a, b) => a + b)).toBeCloseTo(3000);
  });
});

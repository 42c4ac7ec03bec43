import { fuzzSettings } from '@fleetwire/testkit';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import { planRebalance } from './rebalance-plan.js';

/**
 * The rebalance decision over any counts its peers may report (the presence store accepts any
 * integer of up to 9 digits from any node): it never sheds more than it holds, more than its
 * fraction, or down past its share, and never sheds within its tolerance.
 * FLEETWIRE_FUZZ_SEED replays a run.
 */
const { seed: SEED, runs: RUNS } = fuzzSettings(5_000);
const NOW = 1_000_000_000;

describe(`planRebalance under arbitrary counts (seed ${SEED})`, () => {
  it('sheds within its bounds, whatever the peers report', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 999_999_999 }),
        fc.array(
          fc.record({
            connections: fc.integer({ min: 0, max: 999_999_999 }),
            age: fc.integer({ min: -5_000, max: 60_000 }),
          }),
          { maxLength: 64 },
        ),
        fc.double({ min: 0.05, max: 10, noNaN: true }),
        fc.double({ min: 0.001, max: 0.5, noNaN: true }),
        fc.option(fc.integer({ min: 0, max: 60_000 }), { nil: undefined }),
        (own, reported, tolerance, fraction, shedAgo) => {
          const peers = reported.map((p, i) => ({
            node: `peer-${i}`,
            connections: p.connections,
            at: NOW - p.age,
          }));
          const plan = planRebalance({
            own,
            peers,
            now: NOW,
            freshMs: 25_000,
            lastShedAt: shedAgo === undefined ? undefined : NOW - shedAgo,
            settleMs: 10_000,
            settings: { tolerance, fraction },
          });
          expect(Number.isInteger(plan.shed)).toBe(true);
          expect(plan.shed).toBeGreaterThanOrEqual(0);
          expect(plan.shed).toBeLessThanOrEqual(Math.ceil(own * fraction));
          if (plan.shed > 0) {
            expect(plan.decision).toBe('shed');
            expect(own - plan.shed).toBeGreaterThanOrEqual(plan.share);
            expect(own).toBeGreaterThan(plan.share * (1 + tolerance));
          }
          if (plan.decision === 'alone') {
            expect(peers.every((p) => p.at <= NOW - 25_000)).toBe(true);
          }
        },
      ),
      { seed: SEED, numRuns: RUNS },
    );
  });
});

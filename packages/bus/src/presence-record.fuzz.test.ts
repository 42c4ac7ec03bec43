import { fuzzSettings } from '@fleetwire/testkit';
import fc from 'fast-check';
import { expect, it } from 'vitest';

import { decodeRecord, encodeRecord } from './presence-record.js';

/**
 * Presence records are read back from Redis, where any Redis user may have written anything:
 * the decoder never throws and answers a record or undefined; what a node wrote comes back as
 * written, whatever its node id or gateway name holds (separators, any Unicode).
 * FLEETWIRE_FUZZ_SEED replays a run; FLEETWIRE_FUZZ_RUNS sets the number of inputs.
 */
const { seed: SEED, runs: RUNS } = fuzzSettings(2_000);

it(`round-trips what a node writes (seed ${SEED})`, () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 0, max: 2 ** 47 }),
      fc.string({ unit: 'grapheme', maxLength: 64 }),
      fc.string({ unit: 'grapheme', maxLength: 128 }),
      (t, node, gateway) => {
        expect(decodeRecord(encodeRecord({ t, node, gateway }))).toEqual({ t, node, gateway });
      },
    ),
    { seed: SEED, numRuns: RUNS },
  );
});

it(`never throws on what another Redis user wrote (seed ${SEED})`, () => {
  const near = fc
    .tuple(
      fc.stringMatching(/^\d{0,20}$/),
      fc.stringMatching(/^\d{0,6}$/),
      fc.string({ unit: 'binary', maxLength: 40 }),
    )
    .map(([t, n, rest]) => `${t}|${n}|${rest}`);
  fc.assert(
    fc.property(fc.oneof(fc.string({ unit: 'binary', maxLength: 2_000 }), near), (value) => {
      const record = decodeRecord(value);
      if (record === undefined) return;
      expect(Number.isSafeInteger(record.t)).toBe(true);
      expect(value.length).toBeLessThanOrEqual(1024);
    }),
    { seed: SEED, numRuns: RUNS },
  );
});

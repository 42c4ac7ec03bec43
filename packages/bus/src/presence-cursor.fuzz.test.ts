import { randomBytes } from 'node:crypto';

import { fuzzSettings } from '@fleetwire/testkit';
import fc from 'fast-check';
import { expect, it } from 'vitest';

import { BusError } from './bus.js';
import {
  decodeScanCursor,
  encodeScanCursor,
  openIdCursor,
  sealIdCursor,
} from './presence-cursor.js';

/**
 * Page cursors come back from any HTTP client: each decoder answers what its store wrote, and
 * anything else (garbage, another store's cursor, a tampered one) with BUS_INVALID_CURSOR,
 * never another error. FLEETWIRE_FUZZ_SEED replays a run; FLEETWIRE_FUZZ_RUNS sets the number
 * of inputs.
 */
const { seed: SEED, runs: RUNS } = fuzzSettings(2_000);
const KEY = randomBytes(32);

/** The decoder's answer, or the code it refused with (anything but a BusError is rethrown). */
function answer(decode: () => string): string {
  try {
    return decode();
  } catch (error) {
    if (!(error instanceof BusError)) throw error;
    return error.code;
  }
}

const anyCursor = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 300 }),
  fc.base64String({ maxLength: 300 }).map((s) => s.replace(/=+$/, '')),
  fc.stringMatching(/^[\w-]{1,256}$/),
);

it(`round-trips the cursors each store writes (seed ${SEED})`, () => {
  fc.assert(
    fc.property(
      fc.string({ unit: 'grapheme', minLength: 1, maxLength: 128 }),
      fc.bigInt({ min: 1n, max: 2n ** 64n - 1n }),
      (id, scan) => {
        expect(openIdCursor(KEY, sealIdCursor(KEY, id))).toBe(id);
        expect(decodeScanCursor(encodeScanCursor(String(scan)))).toBe(String(scan));
      },
    ),
    { seed: SEED, numRuns: RUNS },
  );
});

it(`refuses anything else with BUS_INVALID_CURSOR only (seed ${SEED})`, () => {
  fc.assert(
    fc.property(anyCursor, (cursor) => {
      const sealed = answer(() => openIdCursor(KEY, cursor));
      expect(sealed).toBe('BUS_INVALID_CURSOR');
      const scan = answer(() => decodeScanCursor(cursor));
      if (scan !== 'BUS_INVALID_CURSOR') expect(encodeScanCursor(scan)).toBe(cursor);
    }),
    { seed: SEED, numRuns: RUNS },
  );
});

it(`a scan cursor past Redis's 64 bits is refused, not handed to Redis (seed ${SEED})`, () => {
  fc.assert(
    fc.property(fc.bigInt({ min: 2n ** 64n, max: 10n ** 20n - 1n }), (scan) => {
      expect(answer(() => decodeScanCursor(encodeScanCursor(String(scan))))).toBe(
        'BUS_INVALID_CURSOR',
      );
    }),
    { seed: SEED, numRuns: RUNS },
  );
});

it(`a sealed cursor changed anywhere, or sealed under another key, is refused (seed ${SEED})`, () => {
  fc.assert(
    fc.property(
      fc.string({ unit: 'grapheme', minLength: 1, maxLength: 64 }),
      fc.nat(),
      fc.integer({ min: 1, max: 255 }),
      (id, at, flip) => {
        const bytes = Buffer.from(sealIdCursor(KEY, id), 'base64url');
        bytes[at % bytes.length]! ^= flip;
        const tampered = bytes.toString('base64url');
        expect(answer(() => openIdCursor(KEY, tampered))).toBe('BUS_INVALID_CURSOR');
        const foreign = sealIdCursor(randomBytes(32), id);
        expect(answer(() => openIdCursor(KEY, foreign))).toBe('BUS_INVALID_CURSOR');
      },
    ),
    { seed: SEED, numRuns: RUNS },
  );
});

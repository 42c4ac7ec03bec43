import { TestkitError } from './errors.js';

export interface FuzzSettings {
  /** fast-check's seed: `FLEETWIRE_FUZZ_SEED` replays a run; a random one otherwise. */
  seed: number;
  /** Inputs per property: `FLEETWIRE_FUZZ_RUNS`, else the suite's own default. */
  runs: number;
}

function wholeNumber(name: string, raw: string | undefined, fallback: () => number): number {
  if (raw === undefined || raw === '') return fallback();
  const value = Number(raw);
  // A typo must not become NaN: fast-check would run with its own defaults and say nothing.
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new TestkitError('TESTKIT_BAD_ENV', `${name}: a whole number, not "${raw}"`);
  }
  return value;
}

/**
 * A fuzz suite's seed and number of inputs per property, from the environment. Suites name the
 * seed in their test names, so a failure seen in CI replays with FLEETWIRE_FUZZ_SEED=<seed>.
 */
export function fuzzSettings(defaultRuns: number): FuzzSettings {
  return {
    seed: wholeNumber('FLEETWIRE_FUZZ_SEED', process.env['FLEETWIRE_FUZZ_SEED'], () =>
      Math.floor(Math.random() * 2 ** 31),
    ),
    runs: wholeNumber('FLEETWIRE_FUZZ_RUNS', process.env['FLEETWIRE_FUZZ_RUNS'], () => defaultRuns),
  };
}

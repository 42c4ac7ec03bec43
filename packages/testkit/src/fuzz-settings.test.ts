import { afterEach, describe, expect, it, vi } from 'vitest';

import { fuzzSettings } from './fuzz-settings.js';

afterEach(() => {
  vi.unstubAllEnvs();
});

describe('fuzzSettings', () => {
  it('takes the seed and runs from the environment, else a random seed and the default', () => {
    vi.stubEnv('FLEETWIRE_FUZZ_SEED', '12345');
    vi.stubEnv('FLEETWIRE_FUZZ_RUNS', '7');
    expect(fuzzSettings(300)).toEqual({ seed: 12345, runs: 7 });
    vi.stubEnv('FLEETWIRE_FUZZ_SEED', '');
    vi.stubEnv('FLEETWIRE_FUZZ_RUNS', '');
    const { seed, runs } = fuzzSettings(300);
    expect(runs).toBe(300);
    expect(Number.isSafeInteger(seed) && seed >= 0 && seed < 2 ** 31).toBe(true);
  });

  it('refuses a value that is not a whole number instead of running with NaN', () => {
    vi.stubEnv('FLEETWIRE_FUZZ_RUNS', '1e3x');
    expect(() => fuzzSettings(300)).toThrow(/FLEETWIRE_FUZZ_RUNS: a whole number, not "1e3x"/);
    vi.stubEnv('FLEETWIRE_FUZZ_RUNS', '');
    vi.stubEnv('FLEETWIRE_FUZZ_SEED', '-1');
    expect(() => fuzzSettings(300)).toThrow(/FLEETWIRE_FUZZ_SEED/);
  });
});

import { describe, expect, it } from 'vitest';

import { DEFAULT_BACKOFF, backoffDelay } from './backoff.js';

describe('backoffDelay (full jitter)', () => {
  it('draws between 0 and the capped exponential', () => {
    const options = { initialDelayMs: 100, maxDelayMs: 1_000, factor: 2 };
    expect([0, 1, 2, 3, 4, 10].map((a) => backoffDelay(a, options, () => 0.999999))).toEqual([
      99, 199, 399, 799, 999, 999,
    ]);
    expect(backoffDelay(3, options, () => 0)).toBe(0);
    expect(backoffDelay(2, options, () => 0.5)).toBe(200);
  });

  it('stays finite for any attempt count', () => {
    expect(backoffDelay(1e9, DEFAULT_BACKOFF, () => 1)).toBe(DEFAULT_BACKOFF.maxDelayMs);
  });
});

import { describe, expect, it } from 'vitest';

import { TokenBucket } from './rate-limiter.js';

describe('TokenBucket', () => {
  it('allows the burst, then refills at the rate, never above the burst', () => {
    let now = 0;
    const bucket = new TokenBucket(10, 3, () => now);
    expect([bucket.take(), bucket.take(), bucket.take(), bucket.take()]).toEqual([
      true,
      true,
      true,
      false,
    ]);
    now += 100; // one token at 10/s
    expect([bucket.take(), bucket.take()]).toEqual([true, false]);
    now += 60_000; // refill caps at the burst
    expect([bucket.take(), bucket.take(), bucket.take(), bucket.take()]).toEqual([
      true,
      true,
      true,
      false,
    ]);
  });

  it('is full once it saved up its burst again', () => {
    let now = 0;
    const bucket = new TokenBucket(10, 3, () => now);
    expect(bucket.isFull()).toBe(true);
    bucket.take();
    expect(bucket.isFull()).toBe(false);
    now += 99;
    expect(bucket.isFull()).toBe(false);
    now += 1;
    expect(bucket.isFull()).toBe(true);
  });

  it('takes a cost at once (stream bytes): all of it or nothing', () => {
    let now = 0;
    const bytes = new TokenBucket(1000, 1000, () => now);
    expect(bytes.take(600)).toBe(true);
    expect(bytes.take(600)).toBe(false);
    expect(bytes.take(400)).toBe(true);
    now += 500; // 500 bytes at 1000/s
    expect([bytes.take(501), bytes.take(500)]).toEqual([false, true]);
  });
});

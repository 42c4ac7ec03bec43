import { afterEach, describe, expect, it, vi } from 'vitest';

import { RepeatedLog } from './repeated-log.js';

afterEach(() => vi.useRealTimers());

describe('RepeatedLog', () => {
  it('logs the first occurrence at once, then one line per interval with the count', () => {
    vi.useFakeTimers();
    const lines: [number, string][] = [];
    const log = new RepeatedLog<string>(
      (count, detail) => lines.push([count, detail]),
      1000,
      () => Date.now(),
    );
    log.hit('a');
    expect(lines).toEqual([[1, 'a']]);
    for (let i = 0; i < 500; i += 1) log.hit(`b${i}`);
    expect(lines).toHaveLength(1);
    vi.advanceTimersByTime(1000);
    expect(lines).toEqual([
      [1, 'a'],
      [500, 'b499'],
    ]);
    vi.advanceTimersByTime(5000);
    expect(lines).toHaveLength(2);
    log.hit('c');
    expect(lines.at(-1)).toEqual([1, 'c']);
  });

  it('flush writes what is pending, and nothing when nothing is', () => {
    vi.useFakeTimers();
    const lines: number[] = [];
    const log = new RepeatedLog<null>(
      (count) => lines.push(count),
      1000,
      () => Date.now(),
    );
    log.flush();
    log.hit(null);
    log.hit(null);
    log.hit(null);
    log.flush();
    expect(lines).toEqual([1, 2]);
  });
});

import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

import { Pacer } from './pacer.js';

describe('Pacer', () => {
  beforeEach(() => vi.useFakeTimers({ now: 0 }));
  afterEach(() => vi.useRealTimers());

  it('sends half the burst at once, then 80 % of the rate; urgent frames first; unwanted ones free', () => {
    const written: unknown[] = [];
    const pacer = new Pacer((frame) => written.push(frame['n']));
    pacer.reset({ ratePerSec: 10, rateBurst: 4 }); // 8/s, burst 2
    let ackedMeanwhile = false;
    for (let n = 0; n < 6; n++) pacer.send({ frame: { n } });
    pacer.send({ frame: { n: 'gone' }, wanted: () => !ackedMeanwhile });
    pacer.send({ frame: { n: 6 }, loose: true });
    expect(written).toEqual([0, 1]);
    expect(pacer.loose).toBe(1);

    pacer.send({ frame: { n: 'ping' } }, true);
    ackedMeanwhile = true;
    vi.advanceTimersByTime(125); // one token at 8/s
    expect(written).toEqual([0, 1, 'ping']);
    vi.advanceTimersByTime(4 * 125);
    expect(written).toEqual([0, 1, 'ping', 2, 3, 4, 5]);
    vi.advanceTimersByTime(125); // 'gone' is skipped without a token: 6 goes
    expect(written).toEqual([0, 1, 'ping', 2, 3, 4, 5, 6]);
    expect(pacer.loose).toBe(0);
    expect(pacer.waiting).toBe(0);
  });

  it('sends urgent frames in the order they came, ahead of the backlog', () => {
    const written: unknown[] = [];
    const pacer = new Pacer((frame) => written.push(frame['n']));
    pacer.reset({ ratePerSec: 10, rateBurst: 2 }); // 8/s, burst 1
    for (let n = 0; n < 3; n++) pacer.send({ frame: { n } });
    pacer.send({ frame: { n: 'answer-1' } }, true);
    pacer.send({ frame: { n: 'answer-2' } }, true);
    vi.advanceTimersByTime(4 * 125);
    expect(written).toEqual([0, 'answer-1', 'answer-2', 1, 2]);
  });

  it('clear hands back what waits; reset starts a full bucket', () => {
    const written: unknown[] = [];
    const pacer = new Pacer((frame) => written.push(frame['n']));
    pacer.reset({ ratePerSec: 1, rateBurst: 2 }); // 0.8/s, burst 1
    pacer.send({ frame: { n: 0 } });
    pacer.send({ frame: { n: 1 }, loose: true });
    pacer.send({ frame: { n: 2 } });
    expect(pacer.clear().map((p) => p.frame['n'])).toEqual([1, 2]);
    expect(pacer.loose).toBe(0);
    vi.advanceTimersByTime(10_000);
    expect(written).toEqual([0]);
    pacer.reset({ ratePerSec: 1, rateBurst: 2 });
    pacer.send({ frame: { n: 3 } });
    expect(written).toEqual([0, 3]);
  });
});

import { describe, expect, it } from 'vitest';

import { TurnBatch } from './turn-batch.js';

describe('TurnBatch', () => {
  it("runs one turn's calls as one run per key, in order, each caller getting its own result", async () => {
    const runs: [string, number[]][] = [];
    const batch = new TurnBatch<number, number>(async (key, items) => {
      runs.push([key, items]);
      return items.map((n) => n * 10);
    });
    const answers = Promise.all([batch.add('a', 1), batch.add('b', 2), batch.add('a', 3)]);
    expect(runs).toEqual([]);
    expect(await answers).toEqual([10, 20, 30]);
    expect(runs).toEqual([
      ['a', [1, 3]],
      ['b', [2]],
    ]);
    // The next turn is a run of its own.
    expect(await batch.add('a', 4)).toBe(40);
    expect(runs).toHaveLength(3);
  });

  it('rejects every caller of a failed run, and only those', async () => {
    const batch = new TurnBatch<string, string>(async (key, items) => {
      if (key === 'bad') throw new Error('refused');
      return items;
    });
    const results = await Promise.allSettled([
      batch.add('bad', 'x'),
      batch.add('good', 'y'),
      batch.add('bad', 'z'),
    ]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'fulfilled', 'rejected']);
  });

  it('splits a large turn into runs of at most 500 items', async () => {
    const sizes: number[] = [];
    const batch = new TurnBatch<number, number>(async (_key, items) => {
      sizes.push(items.length);
      return items;
    });
    const all = await Promise.all(Array.from({ length: 1_201 }, (_, i) => batch.add('k', i)));
    expect(sizes).toEqual([500, 500, 201]);
    expect(all[1_200]).toBe(1_200);
  });

  it('flush runs what is collected at once', async () => {
    const runs: number[][] = [];
    const batch = new TurnBatch<number, undefined>(async (_key, items) => {
      runs.push(items);
      return [];
    });
    const added = batch.add('k', 1);
    batch.flush();
    expect(runs).toEqual([[1]]);
    await added;
  });
});

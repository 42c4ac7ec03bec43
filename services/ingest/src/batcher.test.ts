import { describe, expect, it } from 'vitest';

import { Batcher, BatcherClosedError } from './batcher.js';

function recorder(fail?: (batch: number[]) => boolean) {
  const batches: number[][] = [];
  return {
    batches,
    write: async (items: number[]) => {
      if (fail?.(items)) throw new Error('write failed');
      batches.push(items);
    },
  };
}

describe('Batcher', () => {
  it('writes the submissions of producers that began together as one batch', async () => {
    const { batches, write } = recorder();
    const batcher = new Batcher(write, { maxItems: 100, maxWaitMs: 60_000 });
    batcher.begin();
    batcher.begin();
    batcher.begin();
    const a = batcher.submit([1, 2]);
    const b = batcher.submit([3]);
    // Nothing is written while a producer that began has not submitted.
    await new Promise((resolve) => setImmediate(resolve));
    expect(batches).toEqual([]);
    const c = batcher.submit([4, 5]);
    await Promise.all([a, b, c]);
    expect(batches).toEqual([[1, 2, 3, 4, 5]]);
  });

  it('splits a backlog larger than maxItems and resolves a submission only when all of it is written', async () => {
    const { batches, write } = recorder();
    const batcher = new Batcher(write, { maxItems: 3, maxWaitMs: 60_000 });
    batcher.begin();
    await batcher.submit([1, 2, 3, 4, 5, 6, 7]);
    expect(batches).toEqual([[1, 2, 3], [4, 5, 6], [7]]);
  });

  it('writes after maxWaitMs when a producer that began never submits', async () => {
    const { batches, write } = recorder();
    const batcher = new Batcher(write, { maxItems: 100, maxWaitMs: 20 });
    batcher.begin();
    batcher.begin();
    await batcher.submit([1]);
    expect(batches).toEqual([[1]]);
  });

  it('rejects every submission of a failed batch, and keeps writing the others', async () => {
    const { batches, write } = recorder((items) => items.includes(13));
    const batcher = new Batcher(write, { maxItems: 2, maxWaitMs: 60_000 });
    batcher.begin();
    batcher.begin();
    const bad = batcher.submit([13, 14, 15]);
    const good = batcher.submit([1]);
    await expect(bad).rejects.toThrow('write failed');
    await good;
    expect(batches).toEqual([[1]]);
  });

  it('resolves an empty submission at once and refuses items after close', async () => {
    const { write } = recorder();
    const batcher = new Batcher(write, { maxItems: 2, maxWaitMs: 60_000 });
    batcher.begin();
    await batcher.submit([]);
    batcher.begin();
    batcher.begin();
    const pending = batcher.submit([1]);
    batcher.close();
    await expect(pending).rejects.toBeInstanceOf(BatcherClosedError);
    await expect(batcher.submit([2])).rejects.toBeInstanceOf(BatcherClosedError);
    expect(batcher.pending).toBe(0);
  });
});

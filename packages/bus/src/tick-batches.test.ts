import { describe, expect, it } from 'vitest';

import { TickBatches } from './tick-batches.js';

/** A sender that records its calls and answers each item with its key and value. */
function recorder(answer: (key: string, items: number[]) => Promise<readonly string[]>) {
  const calls: Array<[string, number[]]> = [];
  const batches = new TickBatches<number, string>((key, items) => {
    calls.push([key, items]);
    return answer(key, items);
  }, 3);
  return { calls, batches };
}

const echo = async (key: string, items: number[]) => items.map((n) => `${key}${n}`);

describe('TickBatches', () => {
  it('sends one turn’s requests as one call per key, at most maxItems each, answering each its own', async () => {
    const { calls, batches } = recorder(echo);
    const answers = Promise.all([
      batches.add('a', 1),
      batches.add('b', 2),
      batches.add('a', 3),
      batches.add('a', 4),
      batches.add('a', 5),
    ]);
    expect(calls).toEqual([]);
    expect(await answers).toEqual(['a1', 'b2', 'a3', 'a4', 'a5']);
    expect(calls).toEqual([
      ['a', [1, 3, 4]],
      ['a', [5]],
      ['b', [2]],
    ]);
  });

  it('starts a new batch for requests made after the turn’s batch left', async () => {
    const { calls, batches } = recorder(echo);
    await batches.add('a', 1);
    await batches.add('a', 2);
    expect(calls).toEqual([
      ['a', [1]],
      ['a', [2]],
    ]);
  });

  it('rejects every request of a failed call, and only those', async () => {
    const { batches } = recorder(async (key, items) => {
      if (key === 'bad') throw new Error('refused');
      return echo(key, items);
    });
    const bad = [batches.add('bad', 1), batches.add('bad', 2)];
    const good = batches.add('good', 3);
    for (const request of bad) await expect(request).rejects.toThrow('refused');
    await expect(good).resolves.toBe('good3');
  });

  it('rejects the batch when the sender throws or answers the wrong number of items', async () => {
    const throwing = new TickBatches<number, string>(() => {
      throw new Error('no connection');
    }, 10);
    await expect(throwing.add('a', 1)).rejects.toThrow('no connection');
    const short = new TickBatches<number, string>(async () => ['only one'], 10);
    const both = [short.add('a', 1), short.add('a', 2)];
    for (const request of both) await expect(request).rejects.toThrow('1 answers for 2 requests');
    const none = new TickBatches<number, string>(async () => null as unknown as string[], 10);
    await expect(none.add('a', 1)).rejects.toThrow('no answers for 1 requests');
  });

  it('flush() sends at once what waits and resolves once every call it sent is answered', async () => {
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const { calls, batches } = recorder(async (key, items) => {
      await held;
      if (key === 'bad') throw new Error('refused');
      return echo(key, items);
    });
    const answer = batches.add('a', 1);
    const failing = batches.add('bad', 2);
    let flushed = false;
    const flush = batches.flush().then(() => (flushed = true));
    expect(calls).toEqual([
      ['a', [1]],
      ['bad', [2]],
    ]);
    await Promise.resolve();
    expect(flushed).toBe(false);
    release();
    await flush;
    await expect(answer).resolves.toBe('a1');
    await expect(failing).rejects.toThrow('refused');
    // Nothing left for the end of the turn.
    await new Promise((resolve) => setImmediate(resolve));
    expect(calls).toHaveLength(2);
  });
});

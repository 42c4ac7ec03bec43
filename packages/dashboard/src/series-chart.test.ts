import { describe, expect, it } from 'vitest';

import { inBatches } from './series-chart.js';

describe('inBatches', () => {
  it('has at most `size` requests in flight and answers in the items’ order', async () => {
    let inFlight = 0;
    let most = 0;
    const answers = await inBatches([1, 2, 3, 4, 5, 6, 7], 3, async (n) => {
      inFlight += 1;
      most = Math.max(most, inFlight);
      await Promise.resolve();
      inFlight -= 1;
      return n * 10;
    });
    expect(answers).toEqual([10, 20, 30, 40, 50, 60, 70]);
    expect(most).toBe(3);
  });
});

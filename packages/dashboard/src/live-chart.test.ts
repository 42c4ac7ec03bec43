import { describe, expect, it } from 'vitest';

import { MAX_SERIES, freshSeries, numericFields } from './live-chart.js';

describe('the live chart’s series', () => {
  it('takes the first MAX_SERIES numeric fields a device sends, and no more however many it names', () => {
    const many = Object.fromEntries([...Array(250).keys()].map((i) => [`k${i}`, i]));
    const first = freshSeries(numericFields(many), []);
    expect(first).toEqual(['k0', 'k1', 'k2', 'k3', 'k4', 'k5']);
    expect(first).toHaveLength(MAX_SERIES);
    expect(freshSeries(numericFields({ k6: 1, k0: 2 }), first)).toEqual([]);
    expect(freshSeries(numericFields({ a: 1, b: 'x', c: 2 }), ['a'])).toEqual(['c']);
  });

  it('takes keys named after Object’s properties as the device’s own fields', () => {
    const fields = numericFields({ constructor: 1, toString: 2, temp: 3 });
    expect(freshSeries(fields, [])).toEqual(['constructor', 'toString', 'temp']);
  });
});

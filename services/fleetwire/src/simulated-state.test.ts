import { describe, expect, it } from 'vitest';

import { SimulatedState } from './simulate.js';

describe('a simulated device’s state', () => {
  it('honours led and target_temperature, reports what it did, leaves the rest in the delta', () => {
    const state = new SimulatedState(20);
    expect(state.reported()).toEqual({ led: false, target_temperature: 20 });
    expect(state.apply({ led: true, target_temperature: 25, colour: 'red' })).toEqual({
      led: true,
      target_temperature: 25,
    });
    expect(state.apply({ led: 'yes', target_temperature: 99 })).toEqual({});
    expect(state.reported()).toEqual({ led: true, target_temperature: 25 });
  });

  it('drifts its temperature towards the target', () => {
    const state = new SimulatedState(20);
    state.apply({ target_temperature: 30 });
    let last = 20;
    for (let i = 0; i < 50; i += 1) {
      const next = state.temperature();
      expect(next).toBeGreaterThan(last);
      last = next;
    }
    expect(last).toBeCloseTo(30, 0);
  });
});

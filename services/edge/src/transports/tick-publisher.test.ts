import { describe, expect, it } from 'vitest';

import { TickPublisher } from './tick-publisher.js';

const held = (topic: string) => ({ topic, frame: topic, binary: false, transport: 'ws' });
const nextTick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('TickPublisher', () => {
  it('publishes nothing during the tick, then everything of it once, in order', async () => {
    const made: string[] = [];
    const publisher = new TickPublisher((h) => made.push(h.topic));
    for (const topic of ['a', 'b', 'c']) publisher.publish(held(topic));
    expect(made).toEqual([]);
    expect(publisher.pending).toBe(3);
    await nextTick();
    expect(made).toEqual(['a', 'b', 'c']);
    expect(publisher.pending).toBe(0);
  });

  it('a publish made while flushing waits for the next tick, after the batch it came from', async () => {
    const made: string[] = [];
    const publisher = new TickPublisher((h) => {
      made.push(h.topic);
      if (h.topic === 'a') publisher.publish(held('from-a'));
    });
    publisher.publish(held('a'));
    publisher.publish(held('b'));
    await nextTick();
    expect(made).toEqual(['a', 'b']);
    await nextTick();
    expect(made).toEqual(['a', 'b', 'from-a']);
  });

  it('flush() publishes at once and leaves nothing for the end of the tick', async () => {
    const made: string[] = [];
    const publisher = new TickPublisher((h) => made.push(h.topic));
    publisher.publish(held('a'));
    publisher.flush();
    expect(made).toEqual(['a']);
    await nextTick();
    expect(made).toEqual(['a']);
  });
});

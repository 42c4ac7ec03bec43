import { parseOffset, type Offset } from '@fleetwire/bus';
import type { DeliveryMessage, GapMessage } from '@fleetwire/protocol';
import { describe, expect, it } from 'vitest';

import { recoveredInOrder } from './recovery-seam.js';

const message = (topic: string, offset: string, epoch = 'e1'): DeliveryMessage => ({
  type: 'message',
  kind: 'telemetry',
  topic,
  from: 'car',
  ts: 0,
  data: {},
  pos: `${epoch}:${offset}`,
});
const since = parseOffset('100-0') as Offset;
const positions = (sent: (DeliveryMessage | GapMessage)[]) => sent.map((m) => m.pos ?? m.type);

describe('recoveredInOrder', () => {
  it('sends what history had, then what was held after it, each once', () => {
    const missed = [message('a', '101-0'), message('a', '102-0')];
    const held = [message('a', '102-0'), message('a', '103-0')];
    expect(positions(recoveredInOrder(missed, held, 'e1', since))).toEqual([
      'e1:101-0',
      'e1:102-0',
      'e1:103-0',
    ]);
  });

  it('keeps a held message history did not read though older than the last one read, in its place', () => {
    // Topic b was quiet since the position and published between the read's listing of the
    // active topics and the read itself: history read a's, and b's came only live.
    const missed = [message('a', '101-0'), message('a', '103-0')];
    const held = [message('b', '102-0'), message('a', '103-0'), message('a', '104-0')];
    expect(positions(recoveredInOrder(missed, held, 'e1', since))).toEqual([
      'e1:101-0',
      'e1:102-0',
      'e1:103-0',
      'e1:104-0',
    ]);
  });

  it('drops what is not after the position; sends another epoch and notices after what was read', () => {
    const gap: GapMessage = { type: 'gap', topic: '#', from: 1, to: 2, reason: 'bus_unavailable' };
    const held = [message('a', '099-0'), gap, message('a', '001-0', 'e2')];
    expect(positions(recoveredInOrder([message('a', '101-0')], held, 'e1', since))).toEqual([
      'e1:101-0',
      'gap',
      'e2:001-0',
    ]);
  });
});

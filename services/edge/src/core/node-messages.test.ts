import { describe, expect, it } from 'vitest';

import {
  NODE_MESSAGE_VERSION,
  decodeDelivery,
  decodeInboxMessage,
  encodeDelivery,
  encodeInboxMessage,
} from './node-messages.js';

const bytes = (value: unknown): Buffer =>
  Buffer.from(typeof value === 'string' ? value : JSON.stringify(value));

function problem(run: () => unknown): string | undefined {
  try {
    run();
    return undefined;
  } catch (error) {
    return (error as { code?: string }).code;
  }
}

describe('messages between nodes', () => {
  const delivery = {
    type: 'message' as const,
    kind: 'telemetry' as const,
    topic: 'devices/d/telemetry',
    from: 'd',
    id: 'm1',
    ts: 1,
    data: { t: 1 },
  };

  it('round-trip as today’s nodes send them (version 1 carries no v)', () => {
    expect(NODE_MESSAGE_VERSION).toBe(1);
    expect(JSON.parse(encodeDelivery(delivery).toString())).not.toHaveProperty('v');
    expect(decodeDelivery(encodeDelivery(delivery))).toEqual(delivery);
    const takeover = { type: 'takeover' as const, node: 'n1' };
    expect(decodeInboxMessage(encodeInboxMessage(takeover))).toEqual(takeover);
    const answer = {
      type: 'answer' as const,
      device: 'acme/d',
      answer: { type: 'ack' as const, id: 'c1' },
    };
    expect(decodeInboxMessage(encodeInboxMessage(answer))).toEqual(answer);
  });

  it('accept v 1 explicitly and ignore unknown fields; never pass v on to clients', () => {
    expect(decodeDelivery(bytes({ ...delivery, v: 1, extra: true }))).toEqual(delivery);
  });

  it('name what is wrong: undecodable, invalid, unknown kind, newer version', () => {
    expect(problem(() => decodeDelivery(bytes('{x')))).toBe('undecodable');
    expect(problem(() => decodeDelivery(bytes('['.repeat(100) + ']'.repeat(100))))).toBe(
      'undecodable',
    );
    expect(problem(() => decodeDelivery(bytes({ ...delivery, topic: 7 })))).toBe('invalid');
    expect(problem(() => decodeDelivery(bytes({ ...delivery, kind: 'gossip' })))).toBe('invalid');
    expect(problem(() => decodeDelivery(bytes({ type: 'other' })))).toBe('unknown_kind');
    expect(problem(() => decodeDelivery(bytes({ ...delivery, v: 2 })))).toBe('newer_version');
    expect(problem(() => decodeInboxMessage(bytes({ type: 'resync' })))).toBe('unknown_kind');
    expect(problem(() => decodeInboxMessage(bytes({ type: 'command', id: 5 })))).toBe('invalid');
    expect(problem(() => decodeInboxMessage(bytes(null)))).toBe('unknown_kind');
    expect(problem(() => decodeInboxMessage(bytes({ v: 3, type: 'takeover', node: 'n' })))).toBe(
      'newer_version',
    );
  });
});

import { encode } from '@msgpack/msgpack';
import { describe, expect, it } from 'vitest';

import { decodeFrame, encodeMessage } from './codec.js';
import { parseClientMessage } from './parse.js';

const text = (s: string): Uint8Array => new TextEncoder().encode(s);

describe('decodeFrame', () => {
  it('reads JSON from text frames and MessagePack from binary frames', () => {
    const message = { type: 'telemetry', data: { t: 21.5 } };
    expect(decodeFrame(text(JSON.stringify(message)), false)).toEqual(message);
    expect(decodeFrame(encode(message), true)).toEqual(message);
  });

  it.each([
    [text('{"type":'), false, /not valid JSON/],
    [new Uint8Array([0xff, 0xfe]), false, /not valid JSON/],
    [new Uint8Array([0xc1]), true, /not valid MessagePack/],
  ])('rejects an undecodable frame with bad_frame (%#)', (frame, isBinary, message) => {
    expect(() => decodeFrame(frame, isBinary)).toThrow(
      expect.objectContaining({ code: 'bad_frame', message: expect.stringMatching(message) }),
    );
  });
});

describe('parseClientMessage', () => {
  it('takes a bare object from a device as its own telemetry, keeping every field', () => {
    const bare = { type: 'temperature_update', value: 23.5, timestamp: '2025-05-29T12:45:00Z' };
    expect(parseClientMessage(bare, { bareTelemetry: true })).toEqual({
      type: 'telemetry',
      data: bare,
    });
    expect(parseClientMessage({ id: 'm1', v: 1 }, { bareTelemetry: true })).toEqual({
      type: 'telemetry',
      id: 'm1',
      data: { id: 'm1', v: 1 },
    });
  });

  it('refuses an unknown type from a non-device, echoing the id as ref', () => {
    expect(() =>
      parseClientMessage({ type: 'temperature_update', id: 'x1' }, { bareTelemetry: false }),
    ).toThrow(
      expect.objectContaining({
        code: 'bad_message',
        ref: 'x1',
        message: 'unknown message type "temperature_update"',
      }),
    );
  });

  it.each([
    [[1, 2], /must be an object/],
    [null, /must be an object/],
    [{ type: 'telemetry' }, /invalid telemetry message: data:/],
    [{ type: 'command', target: 'd1', name: 'reboot' }, /invalid command message: id:/],
    [{ type: 'subscribe', topics: [] }, /invalid subscribe message: topics:/],
    [{ type: 'event', name: 'has space' }, /invalid event message: name:/],
    // A target is a device id, as on the HTTP routes: never a topic level with a wildcard.
    [{ type: 'state.set', target: 'd1/#', desired: {} }, /invalid state\.set message: target:/],
    [{ type: 'state.get', id: 'g', target: 'd+' }, /invalid state\.get message: target:/],
    [{ type: 'command', id: 'c', target: 'a/b', name: 'x' }, /invalid command message: target:/],
  ])('rejects %j with bad_message', (value, message) => {
    expect(() => parseClientMessage(value, { bareTelemetry: true })).toThrow(
      expect.objectContaining({ code: 'bad_message', message: expect.stringMatching(message) }),
    );
  });

  it('parses each known kind', () => {
    const kinds = [
      { type: 'telemetry', id: 'a', stream: 'env', data: { t: 1 } },
      { type: 'event', name: 'door.open', data: {} },
      { type: 'status', data: { battery: 80 } },
      { type: 'publish', topic: 'rooms/1', data: [1, 2] },
      { type: 'subscribe', id: 's', topics: ['devices/+/telemetry'] },
      { type: 'unsubscribe', topics: ['devices/#'] },
      { type: 'command', id: 'c', target: 'd1', name: 'led', params: { on: true } },
      { type: 'ack', id: 'c', result: { ok: 1 } },
      { type: 'nack', id: 'c', reason: 'busy' },
      { type: 'ping' },
    ];
    for (const kind of kinds) {
      expect(parseClientMessage(kind, { bareTelemetry: false })).toEqual(kind);
    }
  });
});

describe('encodeMessage', () => {
  it('writes JSON text or MessagePack bytes of the same message', () => {
    const message = { type: 'ack', id: 'm1' } as const;
    expect(encodeMessage(message, 'json')).toBe('{"type":"ack","id":"m1"}');
    expect(decodeFrame(encodeMessage(message, 'msgpack') as Uint8Array, true)).toEqual(message);
  });
});

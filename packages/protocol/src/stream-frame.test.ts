import { encode } from '@msgpack/msgpack';
import { describe, expect, it } from 'vitest';

import { ProtocolError } from './protocol-error.js';
import {
  decodeRelayFrame,
  decodeStreamChunk,
  encodeRelayFrame,
  encodeStreamChunk,
  isStreamFrame,
  relayHeader,
} from './stream-frame.js';

describe('stream frames', () => {
  it('a chunk is the marker, the channel and the payload as sent', () => {
    const payload = new Uint8Array([0, 1, 2, 255]);
    const frame = encodeStreamChunk(7, payload);
    expect([...frame]).toEqual([0xc1, 7, 0, 1, 2, 255]);
    const chunk = decodeStreamChunk(frame);
    expect(chunk.channel).toBe(7);
    expect([...chunk.payload]).toEqual([...payload]);
    // A view into the frame, not a copy.
    expect(chunk.payload.buffer).toBe(frame.buffer);
  });

  it('a relay frame carries the topic and a big-endian sequence number', () => {
    const header = relayHeader('devices/d1/streams/audio');
    const frame = encodeRelayFrame(header, 0x01020304, new Uint8Array([9, 8]));
    expect([...frame.subarray(0, 3)]).toEqual([0xc1, 1, 24]);
    expect([...frame.subarray(27, 31)]).toEqual([1, 2, 3, 4]);
    expect(decodeRelayFrame(frame)).toEqual({
      topic: 'devices/d1/streams/audio',
      seq: 0x01020304,
      payload: new Uint8Array([9, 8]),
    });
  });

  it('no MessagePack message starts with the marker', () => {
    for (const value of [{}, { type: 'ping' }, [1], 'x', 0, null, true, 1.5]) {
      expect(isStreamFrame(encode(value))).toBe(false);
    }
  });

  it.each([
    ['empty', []],
    ['no marker', [0x80]],
    ['no channel', [0xc1]],
    ['channel 0', [0xc1, 0, 1]],
  ])('a chunk refused: %s', (_what, bytes) => {
    expect(() => decodeStreamChunk(new Uint8Array(bytes))).toThrow(ProtocolError);
  });

  it.each([
    ['short', [0xc1, 1]],
    ['unknown version', [0xc1, 2, 1, 0x61, 0, 0, 0, 0]],
    ['empty topic', [0xc1, 1, 0, 0, 0, 0, 0]],
    ['topic longer than the frame', [0xc1, 1, 200, 0x61, 0, 0, 0, 0]],
    ['topic with a wildcard', [0xc1, 1, 1, 0x23, 0, 0, 0, 0]],
    ['topic not UTF-8', [0xc1, 1, 1, 0xff, 0, 0, 0, 0]],
  ])('a relay frame refused: %s', (_what, bytes) => {
    expect(() => decodeRelayFrame(new Uint8Array(bytes))).toThrow(ProtocolError);
  });
});

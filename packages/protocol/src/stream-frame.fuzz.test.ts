import { fuzzSettings } from '@fleetwire/testkit';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import { ErrorCode } from './codes.js';
import { ProtocolError } from './protocol-error.js';
import {
  decodeRelayFrame,
  decodeStreamChunk,
  encodeRelayFrame,
  relayHeader,
} from './stream-frame.js';

/** FLEETWIRE_FUZZ_SEED replays a run. */
const { seed: SEED, runs: RUNS } = fuzzSettings(5000);

/** Returns normally or throws a ProtocolError `bad_frame`; nothing else is allowed. */
function refusedCleanly(decode: () => unknown): boolean {
  try {
    decode();
    return true;
  } catch (error) {
    return error instanceof ProtocolError && error.code === ErrorCode.BadFrame;
  }
}

/** Bytes that start like a stream frame and then go wrong in every way fast-check finds. */
const hostile = fc.oneof(
  fc.uint8Array({ maxLength: 600 }),
  fc
    .tuple(fc.constantFrom(0, 1, 2, 255), fc.nat(255), fc.uint8Array({ maxLength: 600 }))
    .map(([version, length, rest]) => new Uint8Array([0xc1, version, length, ...rest])),
);

describe(`stream frame decoders under hostile bytes (seed ${SEED})`, () => {
  it('decodeStreamChunk and decodeRelayFrame return or refuse with bad_frame, never anything else', () => {
    fc.assert(
      fc.property(hostile, (bytes) => {
        expect(refusedCleanly(() => decodeStreamChunk(bytes))).toBe(true);
        expect(refusedCleanly(() => decodeRelayFrame(bytes))).toBe(true);
      }),
      { seed: SEED, numRuns: RUNS },
    );
  });

  it('what decodeRelayFrame accepts stays inside the frame', () => {
    fc.assert(
      fc.property(hostile, (bytes) => {
        try {
          const frame = decodeRelayFrame(bytes);
          expect(frame.payload.byteLength).toBeLessThanOrEqual(bytes.byteLength);
          expect(frame.payload.buffer).toBe(bytes.buffer);
        } catch {
          // Refusals are covered above.
        }
      }),
      { seed: SEED, numRuns: RUNS },
    );
  });

  it('any topic, sequence number and payload survive a relay round trip byte for byte', () => {
    const level = fc.stringMatching(/^[A-Za-z0-9_.:@-]{1,40}$/);
    fc.assert(
      fc.property(
        level,
        level,
        fc.nat({ max: 2 ** 32 - 1 }),
        fc.uint8Array({ maxLength: 2048 }),
        (device, name, seq, payload) => {
          const topic = `devices/${device}/streams/${name}`;
          const frame = encodeRelayFrame(relayHeader(topic), seq, payload);
          expect(decodeRelayFrame(frame)).toEqual({ topic, seq, payload });
        },
      ),
      { seed: SEED, numRuns: RUNS },
    );
  });
});

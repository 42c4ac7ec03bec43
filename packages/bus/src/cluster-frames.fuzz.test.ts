import { fuzzSettings } from '@fleetwire/testkit';
import fc from 'fast-check';
import { expect, it } from 'vitest';

import {
  encodeMessage,
  encodeSyncMarker,
  parseControlFrame,
  parseDomainFrame,
} from './cluster-frames.js';

const { seed: SEED, runs: RUNS } = fuzzSettings(2000);

// Anything on a Redis channel may be written by another Redis user: parsing bytes of any shape
// answers a frame or undefined, never throws, and never reads past the frame.
it(`cluster frames: arbitrary bytes parse to a frame or nothing (seed ${SEED})`, () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 2048 }), (bytes) => {
      const buffer = Buffer.from(bytes);
      const frame = parseDomainFrame(buffer);
      if (frame?.kind === 'message') {
        expect(Buffer.byteLength(frame.topic) + frame.payload.length).toBeLessThanOrEqual(
          buffer.length,
        );
      }
      parseControlFrame(buffer);
    }),
    { seed: SEED, numRuns: RUNS },
  );
});

it(`cluster frames: a message and a sync marker round-trip (seed ${SEED})`, () => {
  // Topic levels as the protocol allows them: no control characters, no wildcards.
  // eslint-disable-next-line no-control-regex
  const level = fc.stringMatching(/^[^\u0000-\u001f\u007f/+#]{1,20}$/);
  fc.assert(
    fc.property(
      fc.array(level, { minLength: 1, maxLength: 6 }),
      fc.uint8Array({ maxLength: 512 }),
      fc.nat(),
      (levels, payload, seq) => {
        const topic = levels.join('/');
        expect(parseDomainFrame(encodeMessage('node-1', seq, topic, payload))).toEqual({
          kind: 'message',
          origin: 'node-1',
          topic,
          payload: Buffer.from(payload),
        });
      },
    ),
    { seed: SEED, numRuns: RUNS },
  );
  expect(parseDomainFrame(encodeSyncMarker('node-1', '7'))).toEqual({
    kind: 'sync',
    origin: 'node-1',
    token: '7',
  });
  expect(parseControlFrame(Buffer.from('i n1 3\nacme/#\nacme/x'))).toEqual({
    kind: 'interest',
    node: 'n1',
    version: 3,
    patterns: 'acme/#\nacme/x',
    acknowledge: true,
  });
  expect(parseControlFrame(Buffer.from('a n2 3 n1'))).toEqual({
    kind: 'ack',
    node: 'n2',
    version: 3,
    for: 'n1',
  });
  expect(parseControlFrame(Buffer.from('i n1 0\n'))).toBeUndefined();
});

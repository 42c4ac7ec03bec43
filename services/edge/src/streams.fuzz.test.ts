import { ErrorCode, encodeStreamChunk } from '@fleetwire/protocol';
import { fuzzSettings } from '@fleetwire/testkit';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { TestClient, mintToken, startTestEdge, type TestEdge } from './test-support.js';

/**
 * Hostile binary stream frames against a live edge: whatever an attacker with a device token
 * sends as a 0xC1 frame, the edge answers with a documented code (or closes with 1008 after
 * repeated refusals), and an honest stream on another socket keeps flowing, in order.
 * FLEETWIRE_FUZZ_SEED replays a run; FLEETWIRE_FUZZ_RUNS sets the number of inputs.
 */
const { seed: SEED, runs: RUNS } = fuzzSettings(300);
const DOCUMENTED: string[] = [
  ErrorCode.BadFrame,
  ErrorCode.UnknownStream,
  ErrorCode.RateLimited,
  ErrorCode.LimitExceeded,
];

let edge: TestEdge;
let honest: TestClient;
let listener: TestClient;
let honestSeq = 0;

async function attacker(): Promise<TestClient> {
  const client = await TestClient.open(edge.url, mintToken({ sub: 'attacker', role: 'device' }));
  client.send({ type: 'stream_open', id: 'o', channel: 1, name: 'audio' });
  expect(await client.next()).toEqual({ type: 'ack', id: 'o' });
  return client;
}

beforeAll(async () => {
  edge = await startTestEdge({ limits: { streamBytesPerSec: 1 << 24, streamBurstBytes: 1 << 24 } });
  listener = await TestClient.open(edge.url, mintToken({ sub: 'ops', role: 'dashboard' }));
  listener.send({ type: 'subscribe', id: 's', topics: ['devices/honest/streams/#'] });
  await listener.next();
  honest = await TestClient.open(edge.url, mintToken({ sub: 'honest', role: 'device' }));
  honest.send({ type: 'stream_open', id: 'o', channel: 7, name: 'audio' });
  await honest.next();
  await listener.next();
});

afterAll(() => {
  for (const client of [honest, listener]) client.ws.terminate();
  edge.close();
});

describe(`hostile stream frames at a live edge (seed ${SEED})`, () => {
  it('every answer carries a documented code, the edge keeps relaying the honest stream', async () => {
    let target = await attacker();
    const frame = fc.oneof(
      fc.uint8Array({ maxLength: 64 }).map((rest) => Uint8Array.from([0xc1, ...rest])),
      fc
        .tuple(fc.nat(255), fc.uint8Array({ maxLength: 2048 }))
        .map(([channel, payload]) => Uint8Array.from([0xc1, channel, ...payload])),
    );
    await fc.assert(
      fc.asyncProperty(frame, async (bytes) => {
        if (target.ws.readyState !== target.ws.OPEN) target = await attacker();
        target.ws.send(bytes);
        const outcome = await Promise.race([
          target.roundTrip().then((answers) => ({ answers })),
          target.closed.then((close) => ({ close })),
        ]);
        if ('close' in outcome) {
          expect(outcome.close.code).toBe(1008);
        } else {
          for (const answer of outcome.answers) {
            expect(answer).toMatchObject({ type: 'error' });
            expect(DOCUMENTED).toContain(answer['code']);
          }
        }
        const payload = Uint8Array.from([honestSeq & 0xff, 1, 2, 3]);
        honest.ws.send(encodeStreamChunk(7, payload));
        const relayed = await listener.next();
        expect(relayed).toMatchObject({ type: 'stream_frame', seq: honestSeq });
        expect([...(relayed['payload'] as Uint8Array)]).toEqual([...payload]);
        honestSeq += 1;
      }),
      { seed: SEED, numRuns: RUNS },
    );
    target.ws.terminate();
  });
});

import { ErrorCode } from '@fleetwire/protocol';
import { fuzzSettings } from '@fleetwire/testkit';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { TestClient, mintToken, startTestEdge, type TestEdge } from './test-support.js';

/**
 * Hostile gateway frames against a live edge: whatever a gateway token's holder sends as
 * `attach`/`detach` or as a message speaking for a `device`, the edge answers with an ack or a
 * documented code (or closes with 1008 after repeated refusals), and an honest gateway's
 * sub-device keeps being heard. FLEETWIRE_FUZZ_SEED replays a run; FLEETWIRE_FUZZ_RUNS sets the
 * number of inputs.
 */
const { seed: SEED, runs: RUNS } = fuzzSettings(300);
const DOCUMENTED: string[] = [
  // A frame the decoder refuses though it is valid JSON: a `__proto__` key in `data`.
  ErrorCode.BadFrame,
  ErrorCode.BadMessage,
  ErrorCode.LimitExceeded,
  ErrorCode.NotAllowed,
  ErrorCode.DeviceMismatch,
  ErrorCode.NoPendingCommand,
  ErrorCode.SubDeviceForbidden,
  ErrorCode.SubDeviceNotAttached,
  ErrorCode.UnknownStream,
  ErrorCode.Forbidden,
  ErrorCode.BadTopic,
];

let edge: TestEdge;
let honest: TestClient;
let listener: TestClient;
let honestSeq = 0;

const attackerClaims = {
  sub: 'attacker-gw',
  role: 'gateway' as const,
  subdevices: { ids: ['lamp-1', 'lamp-2'], pattern: 'flat-*' },
};

beforeAll(async () => {
  edge = await startTestEdge({ limits: { ratePerSec: 100_000, rateBurst: 100_000 } });
  listener = await TestClient.open(edge.url, mintToken({ sub: 'ops', role: 'dashboard' }));
  listener.send({ type: 'subscribe', id: 's', topics: ['devices/home-1/telemetry'] });
  await listener.next();
  honest = await TestClient.open(
    edge.url,
    mintToken({ sub: 'honest-gw', role: 'gateway', subdevices: { ids: ['home-1'] } }),
  );
  honest.send({ type: 'attach', id: 'a', device: 'home-1' });
  expect(await honest.next()).toEqual({ type: 'ack', id: 'a' });
});

afterAll(() => {
  for (const client of [honest, listener]) client.ws.terminate();
  edge.close();
});

describe(`hostile gateway frames at a live edge (seed ${SEED})`, () => {
  it('every answer is an ack or carries a documented code; the honest sub-device is still heard', async () => {
    const open = () => TestClient.open(edge.url, mintToken(attackerClaims));
    let target = await open();
    const device = fc.oneof(
      fc.constantFrom('lamp-1', 'lamp-2', 'flat-1', 'flat-', 'home-1', 'attacker-gw', '', '*'),
      fc.string({ maxLength: 80 }),
      fc.string({ unit: 'grapheme', maxLength: 20 }),
      fc.integer(),
      fc.constant(null),
      fc.array(fc.string({ maxLength: 8 }), { maxLength: 3 }),
    );
    const frame = fc.record(
      {
        type: fc.constantFrom(
          'attach',
          'detach',
          'telemetry',
          'event',
          'status',
          'ack',
          'nack',
          'stream_open',
        ),
        id: fc.string({ minLength: 1, maxLength: 16 }),
        device,
        data: fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 2 })),
        channel: fc.integer({ min: 0, max: 300 }),
        name: fc.string({ maxLength: 12 }),
      },
      { requiredKeys: ['type'] },
    );
    await fc.assert(
      fc.asyncProperty(frame, async (message) => {
        if (target.ws.readyState !== target.ws.OPEN) target = await open();
        target.send(message);
        const outcome = await Promise.race([
          target.roundTrip().then((answers) => ({ answers })),
          target.closed.then((close) => ({ close })),
        ]);
        if ('close' in outcome) {
          expect(outcome.close.code).toBe(1008);
        } else {
          for (const answer of outcome.answers) {
            if (answer.type === 'ack') continue;
            expect(answer).toMatchObject({ type: 'error' });
            expect(DOCUMENTED).toContain(answer['code']);
          }
        }
        honestSeq += 1;
        const id = `h-${honestSeq}`;
        honest.send({ type: 'telemetry', id, device: 'home-1', data: { n: honestSeq } });
        expect(await honest.next()).toEqual({ type: 'ack', id });
        expect(await listener.next()).toMatchObject({
          from: 'home-1',
          via: 'honest-gw',
          data: { n: honestSeq },
        });
      }),
      { seed: SEED, numRuns: RUNS },
    );
    target.ws.terminate();
  });
});

import { HTTP_ERRORS, isHttpErrorCode } from '@fleetwire/protocol';
import { SqlDeviceStateStore, createPgliteClient, migrate, type SqlClient } from '@fleetwire/store';
import { fuzzSettings } from '@fleetwire/testkit';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';

import {
  TestClient,
  httpRequest,
  mintToken,
  startTestEdge,
  type TestEdge,
} from './test-support.js';

/**
 * Hostile device state input against a real edge with a PGlite store: `state.report` and
 * `state.set` frames with generated values (deep, wide, long, odd keys), and PATCH bodies and
 * If-Match headers. Every answer carries a documented code, nothing crashes, and after every
 * input an honest device still gets its report acked and stored.
 *
 * FLEETWIRE_FUZZ_SEED replays a run; FLEETWIRE_FUZZ_RUNS sets the number of inputs per property.
 */
const { seed: SEED, runs: RUNS } = fuzzSettings(300);
const WS_ANSWERS = new Set(['ack', 'nack', 'error']);
const WS_ERROR_CODES = new Set(['limit_exceeded', 'bad_message', 'bad_frame']);
const NACK_REASONS = new Set(['conflict']);

let edge: TestEdge;
let db: SqlClient;
let honest: TestClient;
let honestReports = 0;
const dashboard = mintToken({ sub: 'ops', role: 'dashboard' });

/** JSON values an attacker may put in a state section, bounded by the frame size. */
const value: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  node: fc.oneof(
    { depthSize: 'small' },
    fc.constant(null),
    fc.boolean(),
    fc.double({ noNaN: true, noDefaultInfinity: true }),
    fc.string({ maxLength: 40 }),
    fc.array(tie('node'), { maxLength: 4 }),
    fc.dictionary(fc.string({ maxLength: 8 }), tie('node'), { maxKeys: 4 }),
  ),
})).node;
const section = fc.oneof(
  fc.dictionary(fc.string({ minLength: 0, maxLength: 70 }), value, { maxKeys: 80 }),
  // Deeper than the state bound, and deep enough for the frame bound.
  fc.integer({ min: 1, max: 40 }).map((depth) => {
    let inner: unknown = 1;
    for (let i = 0; i < depth; i += 1) inner = [inner];
    return { deep: inner };
  }),
  fc.integer({ min: 1, max: 3 }).map((n) => ({ blob: 'x'.repeat(n * 4000) })),
);
const anyJson = fc.oneof(section, value, fc.string());

async function honestReportStored(): Promise<void> {
  honestReports += 1;
  const id = `h-${honestReports}`;
  honest.send({ type: 'state.report', id, reported: { n: honestReports } });
  for (;;) {
    const message = await honest.next();
    if (message.type === 'ack' && message['id'] === id) break;
  }
  const state = await httpRequest(edge.port, 'GET', '/v1/devices/honest/state', dashboard);
  expect(JSON.parse(state.body).reported).toEqual({ n: honestReports });
}

describe(`device state under hostile input (seed ${SEED})`, () => {
  beforeAll(async () => {
    db = await createPgliteClient();
    await migrate(db);
    edge = await startTestEdge({
      deviceState: new SqlDeviceStateStore(db),
      // The abuse limits are tested elsewhere; here every input must get its own answer.
      limits: { maxProtocolErrors: 1_000_000, ratePerSec: 100_000, rateBurst: 100_000 },
    });
    honest = await TestClient.open(edge.url, mintToken({ sub: 'honest', role: 'device' }));
  }, 60_000);
  afterAll(async () => {
    honest?.ws.terminate();
    edge?.close();
    await db?.close();
  });

  it('answers every state.report and state.set with an ack, a conflict nack or a documented error', async () => {
    const device = await TestClient.open(edge.url, mintToken({ sub: 'mallory', role: 'device' }));
    const ops = await TestClient.open(edge.url, dashboard);
    try {
      await fc.assert(
        fc.asyncProperty(
          anyJson,
          anyJson,
          fc.option(fc.integer({ min: -1, max: 5 })),
          async (reported, desired, version) => {
            device.send({ type: 'state.report', id: 'r', reported });
            ops.send({
              type: 'state.set',
              id: 's',
              target: 'mallory',
              desired,
              ...(version === null ? {} : { version }),
            });
            for (const client of [device, ops]) {
              for (const answer of await client.roundTrip()) {
                if (answer.type === 'state' || answer.type === 'message') continue;
                expect(WS_ANSWERS).toContain(answer.type);
                if (answer.type === 'error') expect(WS_ERROR_CODES).toContain(answer['code']);
                if (answer.type === 'nack') expect(NACK_REASONS).toContain(answer['reason']);
              }
            }
            expect(device.ws.readyState).toBe(WebSocket.OPEN);
            await honestReportStored();
          },
        ),
        { seed: SEED, numRuns: RUNS },
      );
    } finally {
      device.ws.terminate();
      ops.ws.terminate();
    }
  }, 120_000);

  it('answers every PATCH body and If-Match from the HTTP error catalogue', async () => {
    const body = fc.oneof(
      anyJson.map((desired) => ({ desired })),
      anyJson,
      fc.string({ maxLength: 200 }),
      fc.uint8Array({ maxLength: 200 }).map((bytes) => Buffer.from(bytes).toString('latin1')),
    );
    const ifMatch = fc.option(
      fc.oneof(
        fc.string({ maxLength: 20 }),
        fc.nat({ max: 50 }).map((n) => `"${n}"`),
      ),
    );
    await fc.assert(
      fc.asyncProperty(body, ifMatch, async (payload, match) => {
        const res = await httpRequest(
          edge.port,
          'PATCH',
          '/v1/devices/target/state',
          dashboard,
          typeof payload === 'string' ? payload : JSON.stringify(payload),
          match === null ? {} : { 'if-match': match.replace(/[^\x20-\x7e]/g, '') },
        );
        if (res.status === 200) return;
        const answer = JSON.parse(res.body) as { error: { code: string } };
        expect(isHttpErrorCode(answer.error.code)).toBe(true);
        expect(res.status).toBe(HTTP_ERRORS[answer.error.code as keyof typeof HTTP_ERRORS].status);
        expect([400, 409, 412, 413]).toContain(res.status);
        await honestReportStored();
      }),
      { seed: SEED, numRuns: RUNS },
    );
  }, 120_000);
});

import { MemoryBusHub, MemoryPresence } from '@fleetwire/bus';
import { encodeStreamChunk } from '@fleetwire/protocol';
import { fuzzSettings, waitFor } from '@fleetwire/testkit';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import {
  TestClient,
  lateAnswers,
  mintToken,
  startTestEdge,
  valueOf,
  type TestEdge,
} from './test-support.js';

/**
 * Whatever a device sends before its `welcome` (anything, up to past the bound), and whether it
 * is then admitted or refused: a refused device has nothing taken (no telemetry stored, nothing
 * delivered), an admitted one hears `welcome` first, more than the bound closes it with 1008, and
 * the edge keeps serving an honest client. FLEETWIRE_FUZZ_SEED replays a run;
 * FLEETWIRE_FUZZ_RUNS sets the number of inputs.
 */
const { seed: SEED, runs: RUNS } = fuzzSettings(150);
/** What the edge keeps before a welcome: its rate burst (the default, 100) and 256 KiB. */
const MAX_FRAMES = 100;
const MAX_BYTES = 256 * 1024;

const presence = lateAnswers(new MemoryPresence(30_000));
const stored: string[] = [];
let edge: TestEdge;
let watcher: TestClient;

beforeAll(async () => {
  edge = await startTestEdge({
    bus: new MemoryBusHub().connect('node-a'),
    presence: presence.store,
    telemetrySink: { append: async (r) => void stored.push(r.deviceId), flush: async () => {} },
  });
  watcher = await TestClient.open(edge.url, mintToken({ sub: 'ops', role: 'dashboard' }));
  watcher.send({ type: 'subscribe', id: 's', topics: ['devices/#'] });
  await watcher.next();
});

afterAll(() => {
  watcher.ws.terminate();
  edge.close();
});

/** A frame as the device sends it: JSON as text, the rest binary (MessagePack or stream). */
interface Frame {
  data: Uint8Array;
  binary: boolean;
}
const json = (value: unknown): Frame => ({
  data: Buffer.from(JSON.stringify(value)),
  binary: false,
});
const frame = fc.oneof(
  fc.record({ n: fc.integer() }).map((data) => json({ type: 'telemetry', data })),
  fc.constant(json({ type: 'stream_open', id: 'o', channel: 1, name: 'audio' })),
  fc
    .uint8Array({ maxLength: 8192 })
    .map((payload): Frame => ({ data: encodeStreamChunk(1, payload), binary: true })),
  fc.constant(json({ type: 'subscribe', id: 's', topics: ['devices/+/telemetry'] })),
  fc.uint8Array({ maxLength: 256 }).map((data): Frame => ({ data, binary: true })),
  fc.string({ maxLength: 256 }).map((text): Frame => ({ data: Buffer.from(text), binary: false })),
);

/** Stands for the sub-device a run attaches, in the frames generated for it. */
const SUB_DEVICE = 'sub-device-of-the-run';

/** A gateway's frames after attaching `device`: for it, for itself, or anything. */
const gatewayFrame = (device: string) =>
  fc.oneof(
    fc.record({ n: fc.integer() }).map((data) => json({ type: 'telemetry', device, data })),
    fc.constant(json({ type: 'stream_open', id: 'o', device, channel: 1, name: 'audio' })),
    fc
      .uint8Array({ maxLength: 4096 })
      .map((payload): Frame => ({ data: encodeStreamChunk(1, payload), binary: true })),
    fc.constant(json({ type: 'telemetry', data: { own: true } })),
    fc.constant(json({ type: 'detach', id: 'd', device })),
    fc.uint8Array({ maxLength: 64 }).map((data): Frame => ({ data, binary: true })),
  );

describe(`frames before welcome at a live edge (seed ${SEED})`, () => {
  it('are taken only from an admitted device, after its welcome, within the bound', async () => {
    let run = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.array(frame, { maxLength: MAX_FRAMES + 8 }),
        fc.boolean(),
        async (frames, refuse) => {
          run += 1;
          const sub = `early-${run}`;
          presence.hold(sub, refuse ? { refused: 'device_limit' } : undefined);
          const device = new TestClient(`${edge.url}?token=${mintToken({ sub, role: 'device' })}`);
          await device.opened;
          const bytesIn = () => valueOf(edge.metrics.bytesIn, { transport: 'ws' });
          const before = await bytesIn();
          let sent = 0;
          let bytes = 0;
          for (const { data, binary } of frames) {
            if (sent === MAX_FRAMES || bytes + data.length > MAX_BYTES) break;
            device.ws.send(data, { binary });
            sent += 1;
            bytes += data.length;
          }
          const next = frames[sent];
          if (next) device.ws.send(next.data, { binary: next.binary });
          const total = bytes + (next?.data.length ?? 0);
          await waitFor('the frames at the edge', async () => (await bytesIn()) - before >= total);
          presence.release();
          const over = next !== undefined;
          if (over) {
            expect(await device.closed).toEqual({
              code: 1008,
              reason: 'too many messages before welcome',
            });
          } else if (refuse) {
            expect(await device.closed).toMatchObject({ code: 4003 });
          } else {
            // What follows depends on the frames (acks, errors, a 1008 for too many invalid ones).
            expect((await device.next()).type).toBe('welcome');
            device.ws.terminate();
          }
          if (over || refuse) {
            expect(device.pending).toBe(0);
            expect(stored).not.toContain(sub);
            const seen = await watcher.roundTrip();
            expect(seen.filter((m) => String(m['topic']).startsWith(`devices/${sub}/`))).toEqual(
              [],
            );
          }
        },
      ),
      { seed: SEED, numRuns: RUNS, endOnFailure: true },
    );
    // The edge still serves: an honest device's telemetry is stored.
    const honest = await TestClient.open(edge.url, mintToken({ sub: 'honest', role: 'device' }));
    honest.send({ type: 'telemetry', id: 't', data: { ok: true } });
    expect(await honest.next()).toEqual({ type: 'ack', id: 't' });
    expect(stored).toContain('honest');
    honest.ws.terminate();
  }, 120_000);

  it("a gateway's frames while an attach is unanswered: a refused sub-device has nothing taken", async () => {
    let run = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.array(gatewayFrame(SUB_DEVICE), { maxLength: MAX_FRAMES + 8 }),
        fc.boolean(),
        async (frames, refuse) => {
          run += 1;
          const device = `sub-${run}`;
          const gateway = await TestClient.open(
            edge.url,
            mintToken({
              sub: `gw-${run}`,
              role: 'gateway',
              subdevices: { ids: [], pattern: 'sub-*' },
            }),
          );
          presence.hold(device, refuse ? { refused: 'device_limit' } : undefined);
          const bytesIn = () => valueOf(edge.metrics.bytesIn, { transport: 'ws' });
          const before = await bytesIn();
          // Each run attaches a device of its own.
          const all = [json({ type: 'attach', id: 'a', device: SUB_DEVICE }), ...frames].map((f) =>
            f.binary
              ? f
              : {
                  ...f,
                  data: Buffer.from(Buffer.from(f.data).toString().replaceAll(SUB_DEVICE, device)),
                },
          );
          for (const { data, binary } of all) gateway.ws.send(data, { binary });
          const total = all.reduce((sum, f) => sum + f.data.length, 0);
          await waitFor('the frames at the edge', async () => (await bytesIn()) - before >= total);
          presence.release();
          // The attach's answer, unless the gateway was closed (too many frames, or invalid ones).
          let answer: Record<string, unknown> | undefined;
          const closed = gateway.closed.then(() => undefined);
          while (answer === undefined) {
            const next = await Promise.race([gateway.next(), closed]);
            if (next === undefined) break;
            if (next['id'] === 'a' || next['ref'] === 'a') answer = next;
          }
          if (answer) {
            expect(answer).toMatchObject(refuse ? { code: 'device_limit' } : { type: 'ack' });
          } else {
            expect((await gateway.closed).code).toBe(1008);
          }
          if (refuse) {
            expect(stored).not.toContain(device);
            const seen = await watcher.roundTrip();
            expect(seen.filter((m) => String(m['topic']).startsWith(`devices/${device}/`))).toEqual(
              [],
            );
          }
          gateway.ws.terminate();
        },
      ),
      { seed: SEED, numRuns: RUNS, endOnFailure: true },
    );
    const honest = await TestClient.open(edge.url, mintToken({ sub: 'honest-2', role: 'device' }));
    honest.send({ type: 'telemetry', id: 't', data: { ok: true } });
    expect(await honest.next()).toEqual({ type: 'ack', id: 't' });
    honest.ws.terminate();
  }, 120_000);
});

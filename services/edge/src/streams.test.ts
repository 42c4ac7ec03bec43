import { encodeStreamChunk } from '@fleetwire/protocol';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

import { waitFor } from '@fleetwire/testkit';

import {
  TestClient,
  mintToken,
  startTestEdge,
  valueOf,
  type TestEdge,
  expectRelayedChunks,
} from './test-support.js';

let edge: TestEdge;
const clients: TestClient[] = [];
const RATE = 16 * 1024;

async function open(claims: Parameters<typeof mintToken>[0], format: 'json' | 'msgpack' = 'json') {
  const client = await TestClient.open(edge.url, mintToken(claims), { format });
  clients.push(client);
  return client;
}

async function listen(pattern: string, format: 'json' | 'msgpack' = 'json') {
  const listener = await open({ sub: `ops-${Math.random()}`, role: 'dashboard' }, format);
  listener.send({ type: 'subscribe', id: 's', topics: [pattern] });
  expect(await listener.next()).toEqual({ type: 'ack', id: 's' });
  return listener;
}

async function openStream(device: TestClient, channel: number, name: string) {
  device.send({ type: 'stream_open', id: `o${channel}`, channel, name });
  expect(await device.next()).toEqual({ type: 'ack', id: `o${channel}` });
}

const bytes = (n: number, seed: number) =>
  Uint8Array.from({ length: n }, (_, i) => (seed + i * 31) & 0xff);

beforeAll(async () => {
  edge = await startTestEdge({
    limits: {
      streamBytesPerSec: RATE,
      streamBurstBytes: RATE,
      streamMaxBufferedBytes: 64 * 1024,
      ratePerSec: 10_000,
      rateBurst: 10_000,
    },
  });
});
afterEach(() => {
  for (const client of clients.splice(0)) client.ws.terminate();
});
afterAll(() => edge.close());

describe('binary streams on one edge', () => {
  it('JSON and MessagePack listeners get the chunks as binary frames, in order, payload untouched', async () => {
    const json = await listen('devices/mic-1/streams/audio');
    const packed = await listen('devices/+/streams/#', 'msgpack');
    const device = await open({ sub: 'mic-1', role: 'device' });
    await openStream(device, 1, 'audio');
    const sent = Array.from({ length: 20 }, (_, n) => bytes(500, n));
    for (const payload of sent) device.ws.send(encodeStreamChunk(1, payload));
    device.send({ type: 'stream_close', id: 'c', channel: 1 });
    await device.next();
    for (const listener of [json, packed]) {
      expect(await listener.next()).toMatchObject({ kind: 'stream', data: { state: 'open' } });
      await expectRelayedChunks(listener, 'devices/mic-1/streams/audio', sent);
      expect(await listener.next()).toMatchObject({
        kind: 'stream',
        data: { state: 'closed', chunks: 20 },
      });
    }
  });

  it('over its byte rate a device’s chunks are dropped and counted, and it is told once', async () => {
    const listener = await listen('devices/mic-2/streams/#');
    const device = await open({ sub: 'mic-2', role: 'device' });
    await openStream(device, 1, 'audio');
    await listener.next();
    const before = await valueOf(edge.metrics.streamDrops, { reason: 'rate_limited' });
    // 40 chunks of 1 KiB at once against a 16 KiB burst: about 24 are dropped.
    for (let n = 0; n < 40; n++) device.ws.send(encodeStreamChunk(1, bytes(1024, n)));
    const answers = await device.roundTrip();
    expect(answers).toEqual([
      { type: 'error', code: 'rate_limited', message: expect.stringContaining('mic-2') },
    ]);
    const dropped = (await valueOf(edge.metrics.streamDrops, { reason: 'rate_limited' })) - before;
    expect(dropped).toBeGreaterThanOrEqual(20);
    expect(dropped).toBeLessThanOrEqual(40 - 16);
    // What passed arrived with consecutive sequence numbers: drops happen before numbering.
    const seqs: number[] = [];
    for (let n = 0; n < 40 - dropped; n++) seqs.push((await listener.next())['seq'] as number);
    expect(seqs).toEqual([...Array(40 - dropped).keys()]);
    expect(edge.server.connectionCount).toBeGreaterThan(0);
  });

  it('a slow listener loses chunks (counted) instead of growing the edge’s memory; a fast one loses none', async () => {
    // A node with room for the rate, so only the listeners' speed decides.
    const roomy = await startTestEdge({
      limits: { streamBytesPerSec: 1 << 30, streamBurstBytes: 1 << 30 },
    });
    try {
      const connect = async (claims: Parameters<typeof mintToken>[0]) => {
        const client = await TestClient.open(roomy.url, mintToken(claims));
        clients.push(client);
        return client;
      };
      const slow = await connect({ sub: 'slow', role: 'dashboard' });
      const fast = await connect({ sub: 'fast', role: 'dashboard' });
      for (const listener of [slow, fast]) {
        listener.send({ type: 'subscribe', id: 's', topics: ['devices/cam-1/streams/#'] });
        await listener.next();
      }
      const fastSeqs: number[] = [];
      fast.ws.removeAllListeners('message');
      fast.ws.on('message', (data: Buffer, isBinary) => {
        if (isBinary) fastSeqs.push(data.readUInt32BE(3 + (data[2] as number)));
      });
      slow.ws.pause();
      const device = await connect({ sub: 'cam-1', role: 'device' });
      device.send({ type: 'stream_open', id: 'o', channel: 1, name: 'video' });
      await device.next();
      const chunk = bytes(15 * 1024, 1);
      let sent = 0;
      // Batches of 300 KB, each processed (a ping round trip) before the next: the fast listener
      // keeps up, the paused one fills the kernel's buffers, then uWS's, then loses chunks.
      await waitFor('the slow listener to lose chunks', async () => {
        for (let i = 0; i < 20; i++) device.ws.send(encodeStreamChunk(1, chunk));
        sent += 20;
        await device.roundTrip();
        return (await valueOf(roomy.metrics.streamDrops, { reason: 'slow_listener' })) > 0;
      });
      await waitFor('the fast listener to have every chunk', () => fastSeqs.length === sent);
      expect(fastSeqs).toEqual([...Array(sent).keys()]);
      // Dropped and counted, and the slow listener keeps its connection.
      const dropped = await valueOf(roomy.metrics.streamDrops, { reason: 'slow_listener' });
      expect(dropped).toBeGreaterThan(0);
      expect(slow.ws.readyState).toBe(slow.ws.OPEN);
      expect(roomy.server.connectionCount).toBe(3);
    } finally {
      roomy.close();
    }
  });

  it('refusals: unknown channel, channel 0, a stream name that is no topic level, a dashboard opening one, a reused channel', async () => {
    const device = await open({ sub: 'mic-4', role: 'device' });
    device.ws.send(encodeStreamChunk(9, bytes(10, 0)));
    expect(await device.next()).toMatchObject({ type: 'error', code: 'unknown_stream' });
    device.ws.send(Buffer.from([0xc1, 0, 1, 2]));
    expect(await device.next()).toMatchObject({ type: 'error', code: 'bad_frame' });
    device.ws.send(Buffer.from([0xc1]));
    expect(await device.next()).toMatchObject({ type: 'error', code: 'bad_frame' });
    device.send({ type: 'stream_open', id: 'n', channel: 1, name: 'a/b' });
    expect(await device.next()).toMatchObject({ type: 'error', code: 'bad_message', ref: 'n' });
    await openStream(device, 1, 'audio');
    device.send({ type: 'stream_open', id: 'again', channel: 1, name: 'other' });
    expect(await device.next()).toMatchObject({ type: 'error', code: 'bad_message', ref: 'again' });
    device.send({ type: 'stream_close', id: 'x', channel: 2 });
    expect(await device.next()).toMatchObject({ type: 'error', code: 'unknown_stream', ref: 'x' });
    const dashboard = await open({ sub: 'ops', role: 'dashboard' });
    dashboard.send({ type: 'stream_open', id: 'd', channel: 1, name: 'audio' });
    expect(await dashboard.next()).toMatchObject({ type: 'error', code: 'not_allowed', ref: 'd' });
    const narrowed = await open({
      sub: 'mic-5',
      role: 'device',
      acl: { pub: ['devices/{sub}/telemetry'] },
    });
    narrowed.send({ type: 'stream_open', id: 'f', channel: 1, name: 'audio' });
    expect(await narrowed.next()).toMatchObject({ type: 'error', code: 'forbidden', ref: 'f' });
  });

  it('a flood of chunks over the byte rate costs the message rate too: it is closed with 1008', async () => {
    // The message limits as shipped (50/s, burst 100, closed at the 20th violation).
    const strict = await startTestEdge({
      limits: { streamBytesPerSec: RATE, streamBurstBytes: RATE },
    });
    try {
      const device = await TestClient.open(strict.url, mintToken({ sub: 'mic-9', role: 'device' }));
      clients.push(device);
      device.send({ type: 'stream_open', id: 'o', channel: 1, name: 'a' });
      expect(await device.next()).toEqual({ type: 'ack', id: 'o' });
      const chunk = encodeStreamChunk(1, bytes(1, 0));
      for (let n = 0; n < 3_000; n++) device.ws.send(chunk);
      expect(await device.closed).toEqual({ code: 1008, reason: 'rate limit exceeded' });
    } finally {
      strict.close();
    }
  });

  it('a gateway streaming for ever new sub-devices keeps no byte budget it does not need', async () => {
    const roomy = await startTestEdge({
      limits: {
        streamBytesPerSec: 1 << 30,
        streamBurstBytes: 1 << 30,
        ratePerSec: 100_000,
        rateBurst: 100_000,
      },
    });
    try {
      const gateway = await TestClient.open(
        roomy.url,
        mintToken({ sub: 'gw-s', role: 'gateway', subdevices: { ids: [], pattern: 'm-*' } }),
      );
      clients.push(gateway);
      for (let n = 0; n < 200; n++) {
        gateway.send({ type: 'attach', device: `m-${n}` });
        gateway.send({ type: 'stream_open', channel: 1, name: 'a', device: `m-${n}` });
        gateway.ws.send(encodeStreamChunk(1, bytes(1, n)));
        gateway.send({ type: 'stream_close', channel: 1 });
        gateway.send({ type: 'detach', device: `m-${n}` });
      }
      expect(await gateway.roundTrip()).toEqual([]);
      // A budget refills within a microsecond here: only the last few are not new-as-ever.
      expect(roomy.server.stateSizes().streamBudgets).toBeLessThanOrEqual(64);
    } finally {
      roomy.close();
    }
  });

  it('a device that leaves closes its streams (announced), and nothing is left behind', async () => {
    const listener = await listen('devices/mic-6/streams/#');
    const device = await open({ sub: 'mic-6', role: 'device' });
    await openStream(device, 1, 'a');
    await openStream(device, 2, 'b');
    await listener.next();
    await listener.next();
    const openBefore = await valueOf(edge.metrics.streamsOpen);
    device.ws.terminate();
    const closed = [await listener.next(), await listener.next()];
    expect(closed.map((m) => [m['topic'], (m['data'] as { state: string }).state]).sort()).toEqual([
      ['devices/mic-6/streams/a', 'closed'],
      ['devices/mic-6/streams/b', 'closed'],
    ]);
    expect(await valueOf(edge.metrics.streamsOpen)).toBe(openBefore - 2);
  });
});

import { afterEach, describe, expect, it } from 'vitest';

import {
  TestClient,
  httpRequest,
  mintToken,
  startTestEdge,
  valueOf,
  type TestEdge,
} from './test-support.js';

/**
 * What a device token holder can send to hurt a node. Each case: the sender gets the documented
 * error (with its message id as `ref`), nothing is delivered, and a well-behaved device on another
 * socket is answered right after.
 */
const edges: TestEdge[] = [];
const clients: TestClient[] = [];
afterEach(() => {
  for (const c of clients.splice(0)) c.ws.terminate();
  for (const e of edges.splice(0)) e.close();
});

async function setUp(limits = {}) {
  const edge = await startTestEdge({ limits: { ratePerSec: 1000, rateBurst: 1000, ...limits } });
  edges.push(edge);
  const open = async (
    sub: string,
    role: 'device' | 'dashboard' | 'service' = 'device',
    format: 'json' | 'msgpack' = 'json',
  ) => {
    const client = await TestClient.open(edge.url, mintToken({ sub, role }), { format });
    clients.push(client);
    return client;
  };
  const watcher = await open('watcher', 'dashboard');
  watcher.send({ type: 'subscribe', id: 's', topics: ['devices/+/telemetry/#'] });
  expect(await watcher.next()).toEqual({ type: 'ack', id: 's' });
  const attacker = await open('mallory');
  const honest = await open('honest');
  return { edge, open, watcher, attacker, honest };
}

const nest = (open: string, close: string, depth: number): string =>
  open.repeat(depth) + '1' + close.repeat(depth);

describe('hostile frames', () => {
  it.each([
    ['arrays 8,100 deep (crashed JSON.stringify)', nest('[', ']', 8100)],
    ['objects 2,000 deep (hung PGlite)', nest('{"a":', '}', 2000)],
    ['arrays 1,000 deep (broke PGlite)', nest('[', ']', 1000)],
  ])('%s: limit_exceeded with the ref, nothing delivered', async (_name, deep) => {
    const { edge, watcher, attacker, honest } = await setUp();
    attacker.ws.send(`{"type":"telemetry","id":"t-1","data":{"x":${deep}}}`);
    attacker.ws.send(`{"id":"bare-1","x":${deep}}`);
    const [first, second] = [await attacker.next(), await attacker.next()];
    expect(first).toMatchObject({ type: 'error', code: 'limit_exceeded', ref: 't-1' });
    expect(second).toMatchObject({ type: 'error', code: 'limit_exceeded', ref: 'bare-1' });
    expect(String(first['message'])).toMatch(/nested deeper than 16 levels/);

    honest.send({ type: 'telemetry', id: 'ok-1', data: { t: 1 } });
    expect(await honest.next()).toEqual({ type: 'ack', id: 'ok-1' });
    expect(await watcher.next()).toMatchObject({ type: 'message', from: 'honest' });
    expect(await watcher.roundTrip()).toEqual([]);
    expect(await valueOf(edge.metrics.protocolErrors, { code: 'limit_exceeded' })).toBe(2);
  });

  it('the same bounds hold for MessagePack frames, declared lengths included', async () => {
    const { open, honest, watcher } = await setUp();
    const attacker = await open('mallory-mp', 'device', 'msgpack');
    const frames = [
      new Uint8Array(10_000).fill(0x91), // 10,000 nested one-item arrays
      new Uint8Array([0xdd, 0xff, 0xff, 0xff, 0xff, 0xc0]), // an array of 2^32-1 items
      new Uint8Array([0xdb, 0x7f, 0xff, 0xff, 0xff, 0x61]), // a 2 GiB string
      new Uint8Array([0x81, 0xa4, 0x74, 0x79, 0x70]), // truncated
      new Uint8Array([0x81, 0x01, 0x02]), // a non-string key
      new Uint8Array([0x81, 0xa1, 0x62, 0xc4, 0x01, 0x00]), // bin
    ];
    for (const frame of frames) attacker.ws.send(frame);
    const codes = [];
    for (let i = 0; i < frames.length; i += 1) codes.push((await attacker.next())['code']);
    expect(codes).toEqual([
      'limit_exceeded',
      'limit_exceeded',
      'limit_exceeded',
      'bad_frame',
      'bad_frame',
      'bad_frame',
    ]);
    honest.send({ type: 'telemetry', id: 'ok-2', data: { t: 2 } });
    expect(await honest.next()).toEqual({ type: 'ack', id: 'ok-2' });
    expect(await watcher.next()).toMatchObject({ from: 'honest' });
  });

  it('strings the store cannot hold are refused at the edge, not acked and dead-lettered later', async () => {
    const { attacker, watcher } = await setUp();
    attacker.ws.send('{"type":"telemetry","id":"n","data":{"s":"a\\u0000b"}}');
    attacker.ws.send('{"type":"telemetry","id":"s","data":{"s":"\\ud800"}}');
    expect(await attacker.next()).toMatchObject({ code: 'bad_frame', ref: 'n' });
    expect(await attacker.next()).toMatchObject({ code: 'bad_frame', ref: 's' });
    expect(await watcher.roundTrip()).toEqual([]);
  });

  it('repeated offences close the connection with 1008, the node keeps serving', async () => {
    const { attacker, honest } = await setUp({ maxProtocolErrors: 3 });
    for (let i = 0; i < 3; i += 1) attacker.ws.send(nest('[', ']', 100));
    expect(await attacker.closed).toEqual({ code: 1008, reason: 'too many invalid messages' });
    honest.send({ type: 'telemetry', id: 'ok-3', data: { t: 3 } });
    expect(await honest.next()).toEqual({ type: 'ack', id: 'ok-3' });
  });

  it('configured limits apply: FLEETWIRE_MAX_DEPTH and the key, item and string bounds', async () => {
    const limits = { decode: { maxDepth: 3, maxKeys: 4, maxItems: 4, maxStringBytes: 24 } };
    const { attacker } = await setUp(limits);
    attacker.send({ type: 'telemetry', id: 'a', data: { x: { y: 1 } } });
    attacker.send({ type: 'telemetry', id: 'b', data: { x: { y: [1] } } });
    attacker.send({ type: 'telemetry', id: 'c', data: { a: 1, b: 2, c: 3, d: 4, e: 5 } });
    attacker.send({ type: 'telemetry', id: 'd', data: { a: [1, 2, 3, 4, 5] } });
    attacker.send({ type: 'telemetry', id: 'e', data: { a: 'x'.repeat(25) } });
    const answers = [];
    for (let i = 0; i < 5; i += 1) answers.push(await attacker.next());
    expect(answers.map((a) => [a['ref'] ?? a['id'], a['code'] ?? a.type])).toEqual([
      ['a', 'ack'],
      ['b', 'limit_exceeded'],
      ['c', 'limit_exceeded'],
      ['d', 'limit_exceeded'],
      ['e', 'limit_exceeded'],
    ]);
  });
});

describe('frames the socket layer refuses', () => {
  it('oversize: 1009 up to the oversize cap, beyond it uWS cuts (1006) and the cut is counted', async () => {
    const { edge, open, honest } = await setUp({ maxPayloadBytes: 1024, oversizeCloseBytes: 8192 });
    const big = await open('big-1');
    big.ws.send('x'.repeat(6000));
    expect(await big.closed).toEqual({ code: 1009, reason: 'message too big' });
    const huge = await open('big-2');
    huge.ws.send('x'.repeat(9000));
    expect((await huge.closed).code).toBe(1006);
    honest.send({ type: 'telemetry', id: 'ok-4', data: { t: 4 } });
    expect(await honest.next()).toEqual({ type: 'ack', id: 'ok-4' });
    expect(await valueOf(edge.metrics.socketCuts, { reason: 'too_big' })).toBe(1);
    expect(await valueOf(edge.metrics.disconnects, { code: '1009', transport: 'ws' })).toBe(1);
  });

  it('invalid UTF-8 in a text frame: uWS cuts the socket (no 1007 in uWS 20.30), counted', async () => {
    const { edge, attacker, honest } = await setUp();
    attacker.ws.send(Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d]), { binary: false });
    expect((await attacker.closed).code).toBe(1006);
    honest.send({ type: 'telemetry', id: 'ok-5', data: { t: 5 } });
    expect(await honest.next()).toEqual({ type: 'ack', id: 'ok-5' });
    expect(await valueOf(edge.metrics.socketCuts, { reason: 'invalid_utf8' })).toBe(1);
  });
});

describe('the depth limit, at its edge', () => {
  it('16 levels in all are taken and 17 refused, framed or bare', async () => {
    const { attacker, honest } = await setUp();
    // Framed: the envelope is level 1 and `data` level 2, so `x` may nest 14 more.
    attacker.ws.send(`{"type":"telemetry","id":"f16","data":{"x":${nest('[', ']', 14)}}}`);
    attacker.ws.send(`{"type":"telemetry","id":"f17","data":{"x":${nest('[', ']', 15)}}}`);
    // Bare device JSON: the object itself is level 1.
    attacker.ws.send(`{"id":"b16","x":${nest('[', ']', 15)}}`);
    attacker.ws.send(`{"id":"b17","x":${nest('[', ']', 16)}}`);
    const answers = [];
    for (let i = 0; i < 4; i += 1) answers.push(await attacker.next());
    expect(answers.map((a) => [a['id'] ?? a['ref'], a['code'] ?? a.type])).toEqual([
      ['f16', 'ack'],
      ['f17', 'limit_exceeded'],
      ['b16', 'ack'],
      ['b17', 'limit_exceeded'],
    ]);
    honest.send({ type: 'telemetry', id: 'ok-6', data: { t: 6 } });
    expect(await honest.next()).toEqual({ type: 'ack', id: 'ok-6' });
  });
});

describe('hostile HTTP bodies', () => {
  it('POST /api/commands: a deep body is 400 limit_exceeded and counted', async () => {
    const { edge, open } = await setUp();
    const device = await open('target');
    const token = mintToken({ sub: 'ops', role: 'service' });
    const deep = `{"target":"target","name":"go","params":${nest('[', ']', 5000)}}`;
    const refused = await httpRequest(edge.port, 'POST', '/api/commands', token, deep);
    expect(refused.status).toBe(400);
    expect(JSON.parse(refused.body)).toMatchObject({ error: { code: 'limit_exceeded' } });
    const broken = await httpRequest(edge.port, 'POST', '/api/commands', token, '{"target":');
    expect([broken.status, JSON.parse(broken.body).error.code]).toEqual([400, 'bad_request']);
    expect(await valueOf(edge.metrics.httpRefusals, { reason: 'limit_exceeded' })).toBe(1);
    // Counted by the code answered (the body's decoder says bad_frame; the client hears bad_request).
    expect(await valueOf(edge.metrics.httpRefusals, { reason: 'bad_request' })).toBe(1);

    // The node still delivers a good command.
    const sent = httpRequest(edge.port, 'POST', '/api/commands', token, {
      id: 'c1',
      target: 'target',
      name: 'go',
    });
    expect(await device.next()).toMatchObject({ type: 'command', id: 'c1' });
    device.send({ type: 'ack', id: 'c1' });
    expect((await sent).status).toBe(200);
  });
});

import { Agent, request } from 'node:http';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import {
  httpGet,
  httpRequest,
  mintToken,
  rawExchange,
  startTestEdge,
  valueOf,
  type TestEdge,
} from './test-support.js';

let edge: TestEdge;

beforeAll(async () => {
  edge = await startTestEdge();
});

afterAll(() => edge.close());

function handshake(headers: Record<string, string>, path = '/ws'): string {
  const lines = Object.entries(headers).map(([k, v]) => `${k}: ${v}`);
  return [`GET ${path} HTTP/1.1`, 'Host: 127.0.0.1', ...lines, '', ''].join('\r\n');
}

describe('RFC 6455 handshake over raw TCP', () => {
  it('answers the RFC example key with its accept value', async () => {
    const token = mintToken({ sub: 'raw', role: 'device' });
    const response = await rawExchange(
      edge.port,
      handshake(
        {
          Upgrade: 'websocket',
          Connection: 'Upgrade',
          'Sec-WebSocket-Key': 'tnl0nQWIsWwEMpj9V+dV3A==',
          'Sec-WebSocket-Version': '13',
        },
        `/ws?token=${token}`,
      ),
    );
    expect(response).toMatch(/^HTTP\/1\.1 101 Switching Protocols\r\n/);
    expect(response).toMatch(/\r\nSec-WebSocket-Accept: n62Htl716IZqfTO319eJ6Ig1PMI=\r\n/i);
  });

  it.each([
    [{ 'Sec-WebSocket-Key': 'too-short', 'Sec-WebSocket-Version': '13' }, 400, 'bad_handshake'],
    [
      { 'Sec-WebSocket-Key': 'tnl0nQWIsWwEMpj9V+dV3A==', 'Sec-WebSocket-Version': '8' },
      426,
      'bad_version',
    ],
  ])('refuses a malformed upgrade %j', async (headers, status, reason) => {
    const response = await rawExchange(
      edge.port,
      handshake({ Upgrade: 'websocket', Connection: 'Upgrade', ...headers }),
    );
    expect(response).toMatch(new RegExp(`^HTTP/1\\.1 ${status} `));
    if (status === 426) expect(response).toMatch(/\r\nsec-websocket-version: 13\r\n/i);
    expect(response.slice(response.indexOf('\r\n\r\n') + 4)).toContain(
      `"error":{"code":"${reason}"`,
    );
  });
});

describe('operational routes', () => {
  it('/healthz and /readyz answer 200 while serving', async () => {
    expect(await httpGet(edge.port, '/healthz')).toMatchObject({
      status: 200,
      body: '{"status":"ok"}',
    });
    const ready = await httpGet(edge.port, '/readyz');
    expect(ready.status).toBe(200);
    expect(JSON.parse(ready.body)).toEqual({
      status: 'ready',
      checks: { listening: true, accepting: true, capacity: true },
    });
    // A single node without Redis or Kafka has no dependencies to report.
    expect(JSON.parse((await httpGet(edge.port, '/health')).body)).toEqual({
      status: 'ready',
      checks: { listening: true, accepting: true, capacity: true },
      reasons: {},
      dependencies: {},
    });
  });

  it('/metrics exposes the edge series in Prometheus text format', async () => {
    const res = await httpGet(edge.port, '/metrics');
    expect(res.status).toBe(200);
    expect(res.type).toMatch(/^text\/plain/);
    for (const name of [
      'fleetwire_edge_connections',
      'fleetwire_edge_messages_in_total',
      'fleetwire_edge_messages_out_total',
      'fleetwire_edge_bytes_in_total',
      'fleetwire_edge_bytes_out_total',
      'fleetwire_edge_auth_failures_total',
      'fleetwire_edge_publish_deliver_latency_seconds',
      'fleetwire_edge_backpressure_drops_total',
      'nodejs_eventloop_lag_seconds',
    ]) {
      expect(res.body).toContain(`# TYPE ${name} `);
    }
  });

  it('a plain GET of /ws gets 426 Upgrade Required', async () => {
    expect(await httpGet(edge.port, '/ws')).toMatchObject({
      status: 426,
      body: expect.stringContaining('not_an_upgrade'),
    });
    // One status line, and the header that says what to do instead.
    const raw = await rawExchange(edge.port, handshake({}, '/ws'));
    expect(raw.match(/^HTTP\/1\.1 /gm)).toHaveLength(1);
    expect(raw).toMatch(/^HTTP\/1\.1 426 Upgrade Required\r\n/);
    expect(raw).toMatch(/\r\nupgrade: websocket\r\n/i);
  });

  it('HEAD: the health routes answer their status, any other path 405; no body, so a kept-alive connection stays in step', async () => {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const ask = (method: string, path: string) =>
      new Promise<{ status: number; allow: string | undefined; body: string }>(
        (resolve, reject) => {
          const req = request(
            { port: edge.port, host: '127.0.0.1', method, path, agent },
            (res) => {
              let body = '';
              res.on('data', (chunk: Buffer) => (body += chunk.toString()));
              res.on('end', () =>
                resolve({ status: res.statusCode ?? 0, allow: res.headers.allow, body }),
              );
            },
          );
          req.on('error', reject);
          req.end();
        },
      );
    try {
      expect(await ask('HEAD', '/healthz')).toEqual({ status: 200, allow: undefined, body: '' });
      expect(await ask('HEAD', '/readyz')).toEqual({ status: 200, allow: undefined, body: '' });
      expect(await ask('HEAD', '/api/commands')).toEqual({ status: 405, allow: 'POST', body: '' });
      expect(await ask('HEAD', '/nope')).toEqual({ status: 405, allow: 'GET', body: '' });
      // The same socket, after three HEADs: a GET still reads its own answer.
      expect(await ask('GET', '/healthz')).toMatchObject({ status: 200, body: '{"status":"ok"}' });
    } finally {
      agent.destroy();
    }
  });

  it('the API routes answer other methods 405 with Allow, counted; a body announced over the limit is 413 at once', async () => {
    const token = mintToken({ sub: 'ops', role: 'service' });
    const before = await valueOf(edge.metrics.httpRefusals, { reason: 'method_not_allowed' });
    for (const [method, path, allow] of [
      ['GET', '/api/commands', 'POST'],
      ['POST', '/api/devices', 'GET'],
      ['DELETE', '/api/devices/d1/presence', 'GET'],
    ] as const) {
      const res = await httpRequest(edge.port, method, path, token);
      expect([res.status, res.headers['allow'], JSON.parse(res.body).error.code]).toEqual([
        405,
        allow,
        'method_not_allowed',
      ]);
    }
    expect(await valueOf(edge.metrics.httpRefusals, { reason: 'method_not_allowed' })).toBe(
      before + 3,
    );
    // Ten megabytes announced, none sent: the answer does not wait for them.
    const head = await rawExchange(
      edge.port,
      'POST /api/commands HTTP/1.1\r\nHost: x\r\n' +
        `Authorization: Bearer ${token}\r\nContent-Type: application/json\r\n` +
        'Content-Length: 10000000\r\n\r\n',
    );
    expect(head).toMatch(/^HTTP\/1\.1 413 /);
  });

  it('the HTTP API takes its token from the Authorization header only, never the address', async () => {
    const token = mintToken({ sub: 'ops', role: 'dashboard' });
    expect((await httpGet(edge.port, '/api/devices', token)).status).toBe(200);
    const inQuery = await httpGet(edge.port, `/api/devices?token=${token}`);
    expect([inQuery.status, JSON.parse(inQuery.body).error.code]).toEqual([401, 'token_missing']);
  });

  it('unknown paths get 404 JSON', async () => {
    expect(await httpGet(edge.port, '/nope')).toMatchObject({
      status: 404,
      body: '{"error":{"code":"not_found","message":"no route /nope"}}',
    });
  });
});

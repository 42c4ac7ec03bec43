import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { DASHBOARD_CSP, resolveStaticPath } from './static-files.js';
import { httpGet, httpRequest, rawExchange, startTestEdge, type TestEdge } from './test-support.js';

// The dashboard dir sits one level below a directory holding a secret, so a path that climbs
// out of it would find something.
const parent = mkdtempSync(join(tmpdir(), 'fleetwire-static-'));
const dir = join(parent, 'dashboard');
mkdirSync(join(dir, 'assets'), { recursive: true });
writeFileSync(join(parent, 'secret.json'), '{"secret":true}');
writeFileSync(join(dir, 'index.html'), '<!doctype html><title>Fleetwire</title>');
writeFileSync(join(dir, 'assets', 'app-1a2b.js'), 'console.log("app")');
writeFileSync(join(dir, 'assets', 'app-1a2b.css'), 'body{}');
writeFileSync(join(dir, 'assets', 'logo.svg'), '<svg/>');
writeFileSync(join(dir, 'assets', 'data.bin'), Buffer.from([1, 2, 3]));

describe('dashboard files (FLEETWIRE_DASHBOARD_DIR set)', () => {
  let edge: TestEdge;
  beforeAll(async () => {
    edge = await startTestEdge({ env: { FLEETWIRE_DASHBOARD_DIR: dir } });
  });
  afterAll(() => edge.close());

  it.each([
    ['/', 'text/html; charset=utf-8', '<!doctype html><title>Fleetwire</title>'],
    ['/?token=abc', 'text/html; charset=utf-8', '<!doctype html><title>Fleetwire</title>'],
    ['/index.html', 'text/html; charset=utf-8', '<!doctype html><title>Fleetwire</title>'],
    ['/assets/app-1a2b.js', 'text/javascript; charset=utf-8', 'console.log("app")'],
    ['/assets/app-1a2b.css', 'text/css; charset=utf-8', 'body{}'],
    ['/assets/logo.svg', 'image/svg+xml', '<svg/>'],
    ['/assets/data.bin', 'application/octet-stream', '\u0001\u0002\u0003'],
  ])('GET %s → 200 %s', async (path, type, body) => {
    expect(await httpGet(edge.port, path)).toEqual({ status: 200, type, body });
  });

  it('pages carry a Content-Security-Policy (own origin only, no framing); every file nosniff', async () => {
    const page = await httpRequest(edge.port, 'GET', '/');
    expect(page.headers['content-security-policy']).toBe(DASHBOARD_CSP);
    expect(DASHBOARD_CSP).toContain("script-src 'self'");
    expect(DASHBOARD_CSP).toContain("frame-ancestors 'none'");
    expect(page.headers['x-content-type-options']).toBe('nosniff');
    const asset = await httpRequest(edge.port, 'GET', '/assets/app-1a2b.js');
    expect(asset.headers['x-content-type-options']).toBe('nosniff');
    expect(asset.headers['content-security-policy']).toBeUndefined();
  });

  it.each(['/assets/missing.js', '/nothing', '/assets', '/assets/'])(
    'GET %s → 404 (missing, or a directory)',
    async (path) => {
      expect(await httpGet(edge.port, path)).toEqual({
        status: 404,
        type: 'application/json',
        body: `{"error":{"code":"not_found","message":"no file ${path}"}}`,
      });
    },
  );

  it.each([
    '/../secret.json',
    '/assets/../../secret.json',
    '/%2e%2e/secret.json',
    '/assets/%2E%2E/%2e%2e/secret.json',
    '/..%2fsecret.json',
    '/%2e%2e%5csecret.json',
    '/assets/%00.js',
    '/%E0%A4%A',
  ])('GET %s → 400 bad_path, never the file outside', async (path) => {
    // Raw bytes on the socket, so no client library normalises the path first.
    const response = await rawExchange(
      edge.port,
      `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`,
    );
    expect(response).toMatch(/^HTTP\/1\.1 400 Bad Request\r\n/);
    expect(response).not.toContain('secret');
  });

  it('keeps the edge’s own routes and the 404 for other methods', async () => {
    expect(await httpGet(edge.port, '/healthz')).toMatchObject({ status: 200 });
    expect(await httpGet(edge.port, '/ws')).toMatchObject({ status: 426 });
    expect(await httpGet(edge.port, '/api/devices')).toMatchObject({ status: 401 });
  });
});

describe('no dashboard configured', () => {
  let edge: TestEdge;
  beforeAll(async () => {
    edge = await startTestEdge();
  });
  afterAll(() => edge.close());

  it('GET / points to the docs; other paths are 404', async () => {
    const root = await httpGet(edge.port, '/');
    expect(root.status).toBe(200);
    expect(root.type).toBe('application/json');
    expect(JSON.parse(root.body)).toEqual({
      service: 'fleetwire-edge',
      websocket: '/ws',
      docs: 'docs/protocol.md and services/edge/README.md in the Fleetwire repository',
      message: 'no dashboard configured (FLEETWIRE_DASHBOARD_DIR)',
    });
    expect(await httpGet(edge.port, '/index.html')).toEqual({
      status: 404,
      type: 'application/json',
      body: '{"error":{"code":"not_found","message":"no route /index.html"}}',
    });
  });
});

describe('resolveStaticPath', () => {
  it('maps / to index.html and refuses every way out', () => {
    expect(resolveStaticPath('/srv/dash', '/')).toBe('/srv/dash/index.html');
    expect(resolveStaticPath('/srv/dash/', '/assets/a%20b.js')).toBe('/srv/dash/assets/a b.js');
    expect(resolveStaticPath('/srv/dash', '/a/./b')).toBeUndefined();
    expect(resolveStaticPath('/srv/dash', '/a/%2e%2e/%2e%2e/etc/passwd')).toBeUndefined();
    expect(resolveStaticPath('/srv/dash', '/%5c..%5cetc')).toBeUndefined();
  });
});

import { fileURLToPath } from 'node:url';

import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import {
  killServicesFromSource,
  selfSignedCertificate,
  runServiceFromSource,
  type ServiceFromSource,
} from '@fleetwire/testkit';

import { SECRET, TestClient, mintToken, startTestEdge } from './test-support.js';

// tsx is a dependency of this package, so the child resolves it from here.
const PACKAGE_DIR = fileURLToPath(new URL('..', import.meta.url));

/** Runs services/edge/src/main.ts as its own process, the way it is deployed. */
function runEdge(env: Record<string, string>): ServiceFromSource {
  return runServiceFromSource({
    packageDir: PACKAGE_DIR,
    entry: 'src/main.ts',
    env: {
      FLEETWIRE_HOST: '127.0.0.1',
      FLEETWIRE_PORT: '0',
      FLEETWIRE_JWT_HS256_SECRET: SECRET,
      FLEETWIRE_JWT_ISSUER: 'fleetwire-test',
      FLEETWIRE_JWT_AUDIENCE: 'fleetwire',
      ...env,
    },
  });
}

afterEach(killServicesFromSource);

describe('edge process', () => {
  it('SIGTERM: stops accepting, closes every socket with 1012 over the drain window, exits 0', async () => {
    const edge = runEdge({ FLEETWIRE_DRAIN_WINDOW_MS: '300' });
    const port = await edge.listening;
    const url = `ws://127.0.0.1:${port}/ws`;
    const clients = await Promise.all(
      ['a', 'b', 'c', 'd'].map((sub) => TestClient.open(url, mintToken({ sub, role: 'device' }))),
    );
    edge.child.kill('SIGTERM');
    const first = await Promise.race(clients.map((c) => c.closed));
    expect(first).toEqual({ code: 1012, reason: 'server draining' });
    // The listen socket is closed before the first socket is: new connections are refused.
    const refused = await new Promise<string>((resolve) => {
      const ws = new WebSocket(`${url}?token=${mintToken({ sub: 'late', role: 'device' })}`);
      ws.once('open', () => resolve('open'));
      ws.once('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
    });
    expect(refused).toBe('ECONNREFUSED');
    for (const closed of await Promise.all(clients.map((c) => c.closed))) {
      expect(closed).toEqual({ code: 1012, reason: 'server draining' });
    }
    expect((await edge.exited).code).toBe(0);
    expect(edge.lines.map((l) => l['msg'])).toEqual(
      expect.arrayContaining(['stopping', 'draining', 'drained']),
    );
  }, 30_000);

  it('refuses to start on the pure-JS uWS fallback unless allowed', async () => {
    const refused = runEdge({ UWS_USE_FALLBACK: '1' });
    const result = await refused.exited;
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/"code":"EDGE_UWS_FALLBACK"/);
    expect(result.stderr).toMatch(/pure-JS fallback/);

    const allowed = runEdge({ UWS_USE_FALLBACK: '1', FLEETWIRE_ALLOW_UWS_FALLBACK: 'true' });
    await allowed.listening;
    expect(allowed.lines.some((l) => String(l['msg']).includes('fallback'))).toBe(true);
    allowed.child.kill('SIGTERM');
    expect((await allowed.exited).code).toBe(0);
  }, 30_000);

  it('exits 1 with every config problem listed', async () => {
    const result = await runEdge({
      FLEETWIRE_PORT: 'eighty',
      FLEETWIRE_BACKPRESSURE_POLICY: 'explode',
    }).exited;
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/"code":"CONFIG_INVALID"/);
    expect(result.stderr).toMatch(/FLEETWIRE_PORT/);
    expect(result.stderr).toMatch(/FLEETWIRE_BACKPRESSURE_POLICY/);
  }, 30_000);
});

describe('TLS', () => {
  it('serves wss when a certificate and key are configured', async () => {
    const tls = selfSignedCertificate();
    const edge = await startTestEdge({
      env: {
        FLEETWIRE_TLS_CERT_FILE: tls.certFile,
        FLEETWIRE_TLS_KEY_FILE: tls.keyFile,
      },
    });
    try {
      expect(edge.url).toMatch(/^wss:/);
      const client = new TestClient(
        `${edge.url}?token=${mintToken({ sub: 'd', role: 'device' })}`,
        { ca: tls.cert },
      );
      await client.opened;
      expect(await client.next()).toMatchObject({ type: 'welcome', sub: 'd' });
      await client.close();
    } finally {
      edge.close();
    }
  });
});

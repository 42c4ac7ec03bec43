import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { createTokenVerifier } from './issuers.js';
import { DEFAULT_JWKS_MAX_BYTES, httpsJwksFetcher } from './jwks.js';
import type { AuthSettings } from './settings.js';
import { LogCapture, jwksOf, refusal, sign, signingKey, type SigningKey } from './test-support.js';
import type { TokenVerifier } from './verify.js';

interface SelfSignedCertificate {
  certFile: string;
  cert: string;
  key: string;
}

/**
 * The testkit's certificate helper (packages/testkit/src/tls.ts), loaded by path: this package
 * does not list @fleetwire/testkit among its dependencies.
 */
async function selfSignedCertificate(): Promise<SelfSignedCertificate> {
  const helper = new URL('../../testkit/src/tls.ts', import.meta.url).href;
  const testkit = (await import(/* @vite-ignore */ helper)) as {
    selfSignedCertificate(): SelfSignedCertificate;
  };
  return testkit.selfSignedCertificate();
}

const ISSUER = 'https://idp.test/realms/fleet';

/** A provider's JWKS endpoint on 127.0.0.1, with a few misbehaving routes for the fetch limits. */
class JwksServer {
  jwks: unknown;
  readonly hits = new Map<string, number>();
  private readonly held: ServerResponse[] = [];
  private server: Server | undefined;
  url = '';

  constructor(
    private readonly tls: SelfSignedCertificate,
    jwks: unknown,
  ) {
    this.jwks = jwks;
  }

  async start(): Promise<void> {
    const server = createServer({ cert: this.tls.cert, key: this.tls.key }, (req, res) =>
      this.answer(req, res),
    );
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    this.server = server;
    this.url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  count(path: string): number {
    return this.hits.get(path) ?? 0;
  }

  /** Gone for good: its port refuses connections from now on. */
  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    for (const res of this.held) res.destroy();
    const closed = new Promise((resolve) => server.close(resolve));
    server.closeAllConnections();
    await closed;
  }

  private answer(req: IncomingMessage, res: ServerResponse): void {
    const path = req.url ?? '';
    this.hits.set(path, this.count(path) + 1);
    const json = (body: unknown): void => {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    };
    switch (path) {
      case '/certs':
        return json(this.jwks);
      case '/big':
        // Chunked, so only the running count can catch it.
        res.writeHead(200, { 'content-type': 'application/json' });
        res.write(`{"keys":[],"pad":"`);
        res.write('x'.repeat(DEFAULT_JWKS_MAX_BYTES));
        return void res.end('"}');
      case '/text':
        return void res.writeHead(200, { 'content-type': 'text/html' }).end('<html>login</html>');
      case '/redirect':
        return void res.writeHead(302, { location: '/certs' }).end();
      case '/slow':
        this.held.push(res);
        return;
      default:
        return void res.writeHead(404).end();
    }
  }
}

let tls: SelfSignedCertificate;
let provider: JwksServer;
let a1: SigningKey;
let b1: SigningKey;
let stranger: SigningKey;

beforeAll(async () => {
  tls = await selfSignedCertificate();
  a1 = signingKey('a1', 'rsa');
  b1 = signingKey('b1');
  stranger = signingKey('zz');
  provider = new JwksServer(tls, jwksOf(a1));
  await provider.start();
});

afterAll(() => provider.stop());

const token = (key: SigningKey, kid = key.kid): string =>
  sign(key, { issuer: ISSUER, audience: 'fleetwire', keyid: kid });

describe('a provider JWKS over HTTPS: rotation, an unknown-kid flood, then an outage', () => {
  const clock = { now: 5_000_000 };
  const logs = new LogCapture();
  let verifier: TokenVerifier;

  beforeAll(async () => {
    const settings: AuthSettings = {
      clockToleranceSec: 5,
      requireExpiry: true,
      audience: 'fleetwire',
      issuers: [{ issuer: ISSUER, jwksUrl: `${provider.url}/certs`, jwksCaFile: tls.certFile }],
      jwks: { refreshSec: 600, cooldownSec: 30, timeoutMs: 5000 },
    };
    verifier = await createTokenVerifier(settings, { logger: logs, now: () => clock.now });
  });

  afterAll(() => verifier.close());

  it('fetches the keys at start (trusting the CA file) and verifies by (issuer, kid)', async () => {
    expect(provider.count('/certs')).toBe(1);
    expect(verifier.ready).toBe(true);
    expect(await verifier.verify(token(a1))).toMatchObject({ subject: 'dev-1', tenant: 'acme' });
    expect(logs.lines).toEqual([
      expect.objectContaining({ level: 'info', message: 'JWKS keys loaded' }),
    ]);
  });

  it('rotation: a token with the new kid is accepted after one refresh, the retired kid is refused', async () => {
    provider.jwks = jwksOf(b1);
    clock.now += 31_000;
    expect((await verifier.verify(token(b1))).subject).toBe('dev-1');
    expect(provider.count('/certs')).toBe(2);
    // a1 was retired: refused, and within the cooldown without a fetch.
    expect((await refusal(verifier.verify(token(a1)))).code).toBe('token_key_unknown');
    expect(provider.count('/certs')).toBe(2);
  });

  it('a flood of unknown kids costs one fetch per cooldown window', async () => {
    const flood = (n: number, tag: string) =>
      Promise.all(
        Array.from({ length: n }, (_, i) =>
          refusal(verifier.verify(token(stranger, `${tag}${i}`))),
        ),
      );
    clock.now += 31_000;
    expect((await flood(100, 'u')).every((e) => e.code === 'token_key_unknown')).toBe(true);
    expect(provider.count('/certs')).toBe(3);
    clock.now += 20_000;
    await flood(100, 'v');
    expect(provider.count('/certs')).toBe(3);
    clock.now += 10_000;
    await flood(100, 'w');
    expect(provider.count('/certs')).toBe(4);
    expect((await verifier.verify(token(b1))).subject).toBe('dev-1');
  });

  it('the provider goes away: cached keys keep verifying (stale), failures logged once per interval', async () => {
    await provider.stop();
    const before = logs.warnings.length;
    for (let i = 0; i < 4; i++) {
      clock.now += 31_000;
      // An unknown kid triggers a fetch, which fails; the known kid needs none.
      expect((await refusal(verifier.verify(token(stranger, `gone-${i}`)))).code).toBe(
        'token_key_unknown',
      );
      expect((await verifier.verify(token(b1))).subject).toBe('dev-1');
    }
    // Explicit refreshes (the timer's job in production) fail too, and are counted.
    await verifier.refresh();
    await verifier.refresh();
    const warned = logs.warnings.slice(before);
    expect(warned).toHaveLength(1);
    expect(warned[0]).toMatchObject({
      message: 'JWKS fetch failed: serving the cached keys',
      details: { issuer: ISSUER, failures: 1, keys: 1 },
    });
    expect(String(warned[0]!.details['error'])).toMatch(/ECONNREFUSED/);
    expect(verifier.status()).toMatchObject({
      ready: true,
      issuers: [{ issuer: ISSUER, jwks: { stale: true, consecutiveFailures: 6, kids: ['b1'] } }],
    });

    clock.now += 600_000;
    await verifier.refresh();
    const later = logs.warnings.slice(before);
    expect(later).toHaveLength(2);
    expect(later[1]!.details).toMatchObject({ failures: 6, consecutiveFailures: 7 });
    expect((await verifier.verify(token(b1))).subject).toBe('dev-1');
  });
});

describe('httpsJwksFetcher limits', () => {
  let server: JwksServer;
  beforeAll(async () => {
    server = new JwksServer(tls, jwksOf(a1));
    await server.start();
  });
  afterAll(() => server.stop());

  const fetchWith = (path: string, options: { ca?: string; timeoutMs?: number } = {}) =>
    httpsJwksFetcher({
      ca: 'ca' in options ? options.ca : tls.cert,
      timeoutMs: options.timeoutMs ?? 5000,
      maxBytes: DEFAULT_JWKS_MAX_BYTES,
    })(`${server.url}${path}`, new AbortController().signal);

  it('answers the parsed JSON of a 200', async () => {
    expect(await fetchWith('/certs')).toEqual(jwksOf(a1));
  });

  it.each([
    ['an untrusted certificate (no CA given)', '/certs', { ca: undefined }, /self-signed/],
    ['a body over 256 KiB', '/big', {}, /body over 262144 bytes/],
    ['a body that is not JSON', '/text', {}, /not JSON/],
    ['a redirect (not followed)', '/redirect', {}, /HTTP 302/],
    ['a 404', '/nope', {}, /HTTP 404/],
    ['no answer within the deadline', '/slow', { timeoutMs: 200 }, /within 200 ms/],
  ] as const)('refuses %s', async (_what, path, options, problem) => {
    await expect(fetchWith(path, options)).rejects.toThrow(problem);
  });

  it('fetches only https URLs', async () => {
    const fetch = httpsJwksFetcher({ timeoutMs: 1000, maxBytes: 1024 });
    await expect(fetch('http://127.0.0.1:1/certs', new AbortController().signal)).rejects.toThrow(
      /only https/,
    );
  });
});

import { generateKeyPairSync, createHmac } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createServer as createHttpsServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { Writable } from 'node:stream';

import { AuthError, createTokenVerifier, type Identity, type TokenVerifier } from '@fleetwire/auth';
import { createRegistry } from '@fleetwire/metrics';
import { selfSignedCertificate } from '@fleetwire/testkit';
import jwt from 'jsonwebtoken';
import { pino } from 'pino';
import type { HttpRequest, HttpResponse, us_socket_context_t } from 'uWebSockets.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { loadEdgeConfig } from '../../config.js';
import { EdgeMetrics } from '../../metrics.js';
import { EdgeServer } from '../../server.js';
import {
  AUDIENCE,
  ISSUER,
  TestClient,
  mintToken,
  refusedUpgrade,
  startTestEdge,
  valueOf,
  type TestEdge,
} from '../../test-support.js';
import { handleUpgrade } from './upgrade.js';
import { loadUws } from '../../uws.js';

const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
const rsaPem = rsa.publicKey.export({ type: 'spki', format: 'pem' }).toString();
const b64url = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url');
const device = { sub: 'dev-1', role: 'device' } as const;

let edge: TestEdge;

beforeAll(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'fleetwire-edge-keys-'));
  writeFileSync(join(dir, 'rsa.pem'), rsaPem);
  // HS256 secret and an RSA key at once: the setting where algorithm confusion would bite.
  edge = await startTestEdge({ env: { FLEETWIRE_JWT_PUBLIC_KEY_FILES: join(dir, 'rsa.pem') } });
});

afterAll(() => edge.close());

describe('the upgrade admits a valid token from any carrier', () => {
  it.each([
    ['Authorization header', { headers: { authorization: `Bearer ${mintToken(device)}` } }, ''],
    [
      'Sec-WebSocket-Protocol',
      { protocols: ['fleetwire.v1', `bearer.${mintToken(device)}`] },
      'fleetwire.v1',
    ],
    ['?token=', { query: `?token=${mintToken(device)}` }, ''],
    [
      'an RS256 token',
      {
        query: `?token=${jwt.sign({ ...device, tenant: 'acme' }, rsa.privateKey, {
          algorithm: 'RS256',
          issuer: ISSUER,
          audience: AUDIENCE,
          expiresIn: 60,
        })}`,
      },
      '',
    ],
  ] as const)('%s', async (_carrier, carry, protocol) => {
    const client = new TestClient(`${edge.url}${'query' in carry ? carry.query : ''}`, {
      ...('headers' in carry ? { headers: carry.headers } : {}),
      ...('protocols' in carry ? { protocols: [...carry.protocols] } : {}),
    });
    await client.opened;
    expect(await client.next()).toMatchObject({
      type: 'welcome',
      sub: 'dev-1',
      role: 'device',
      tenant: 'acme',
      node: 'test-node',
    });
    // The token-bearing subprotocol is never echoed back; fleetwire.v1 is when offered.
    expect(client.ws.protocol).toBe(protocol);
    await client.close();
  });
});

describe('the upgrade refuses, answers with a reason, counts and logs once', () => {
  const exp = () => Math.floor(Date.now() / 1000) + 60;
  const cases: [string, () => string | undefined, number, string][] = [
    ['no token', () => undefined, 401, 'token_missing'],
    [
      'alg none',
      () =>
        `${b64url({ alg: 'none', typ: 'JWT' })}.${b64url({ ...device, tenant: 'acme', exp: exp(), iss: ISSUER, aud: AUDIENCE })}.`,
      401,
      'token_alg_not_allowed',
    ],
    [
      'HS256 signed with the RSA public key (algorithm confusion)',
      () => {
        const body = `${b64url({ alg: 'HS256', typ: 'JWT' })}.${b64url({ ...device, tenant: 'acme', exp: exp(), iss: ISSUER, aud: AUDIENCE })}`;
        return `${body}.${createHmac('sha256', rsaPem).update(body).digest('base64url')}`;
      },
      401,
      'token_bad_signature',
    ],
    ['an expired token', () => mintToken(device, { expiresIn: -120 }), 401, 'token_expired'],
    [
      'a token for another audience',
      () => mintToken(device, { audience: 'other' }),
      401,
      'token_bad_audience',
    ],
    [
      'a tenant this node does not serve',
      () => mintToken({ ...device, tenant: 'initech' }),
      403,
      'tenant_not_allowed',
    ],
    [
      'an unknown role',
      () => mintToken({ sub: 'x', role: 'admin' as never }),
      403,
      'claims_invalid',
    ],
    ['garbage', () => 'garbage', 401, 'token_malformed'],
    [
      'a jku header (a key the token chooses itself)',
      () => mintToken(device, { header: { alg: 'HS256', jku: 'https://evil.example/jwks' } }),
      401,
      'token_header_refused',
    ],
  ];

  it.each(cases)('%s → %i %s', async (_what, token, status, reason) => {
    const before = await valueOf(edge.metrics.authFailures, { reason });
    const logsBefore = edge.logs.length;
    const t = token();
    const res = await refusedUpgrade(t === undefined ? edge.url : `${edge.url}?token=${t}`);
    expect(res.status).toBe(status);
    expect(res.body).toMatchObject({ error: { code: reason, message: expect.any(String) } });
    if (status === 401) expect(res.headers['www-authenticate']).toContain(reason);
    expect(await valueOf(edge.metrics.authFailures, { reason })).toBe(before + 1);
    const logged = edge.logs.slice(logsBefore).filter((l) => l['reason'] === reason);
    expect(logged).toHaveLength(1);
    expect(logged[0]).toMatchObject({ level: 40, status });
  });
});

/**
 * uWS's request and response, faked: the request only answers during the handler's synchronous
 * part (as uWS's does), and the response throws on any use once aborted.
 */
function fakeUpgrade(query: string) {
  const calls: string[] = [];
  let abortHandler: (() => void) | undefined;
  let aborted = false;
  let reqValid = true;
  const use = (name: string): void => {
    if (aborted) throw new Error(`res.${name} after abort`);
    calls.push(name);
  };
  const res = {
    getRemoteAddressAsText: () => new TextEncoder().encode('127.0.0.1').buffer,
    onAborted(handler: () => void) {
      use('onAborted');
      abortHandler = handler;
      return res;
    },
    cork(fn: () => void) {
      use('cork');
      fn();
      return res;
    },
    writeStatus(status: string) {
      use(`writeStatus ${status}`);
      return res;
    },
    writeHeader(name: string, value: string) {
      use(`writeHeader ${name}: ${value}`);
      return res;
    },
    end(body: string) {
      use(`end ${body}`);
      return res;
    },
    upgrade() {
      use('upgrade');
    },
  };
  const headers: Record<string, string> = {
    'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==',
    'sec-websocket-version': '13',
  };
  const req = {
    getHeader(name: string) {
      if (!reqValid) throw new Error('req read after the handler returned');
      return headers[name] ?? '';
    },
    getQuery() {
      if (!reqValid) throw new Error('req read after the handler returned');
      return query;
    },
  };
  return {
    res: res as unknown as HttpResponse,
    req: req as unknown as HttpRequest,
    calls,
    /** The handler's synchronous part is over: `req` is gone. */
    returned: () => {
      reqValid = false;
    },
    abort: () => {
      aborted = true;
      abortHandler?.();
    },
  };
}

describe('the async upgrade (fake uWS request and response)', () => {
  const logs: Record<string, unknown>[] = [];
  const metrics = new EdgeMetrics(createRegistry({ service: 'edge', node: 'fake' }));
  const logger = pino(
    { level: 'info' },
    new Writable({
      write(chunk: Buffer, _encoding, done) {
        logs.push(JSON.parse(chunk.toString()));
        done();
      },
    }),
  );
  const limits = loadEdgeConfig({ FLEETWIRE_JWT_HS256_SECRET: 'x'.repeat(32) }, 'fake').limits;
  const identity: Identity = {
    subject: 'dev-1',
    role: 'device',
    tenant: 'acme',
    publish: [],
    subscribe: [],
    command: false,
  };

  /** A verifier whose answer the test gives, after the handler has returned. */
  function pending() {
    let settle!: (outcome: Identity | AuthError) => void;
    const answer = new Promise<Identity>((resolve, reject) => {
      settle = (outcome) => (outcome instanceof AuthError ? reject(outcome) : resolve(outcome));
    });
    return { verifier: { verify: () => answer }, settle };
  }

  function start(verify: ReturnType<typeof pending>, accepting = () => true) {
    const fake = fakeUpgrade('token=a.b.c');
    const done = handleUpgrade(
      {
        verifier: verify.verifier,
        metrics,
        logger,
        limits,
        accepting,
        openConnections: () => 0,
        nextSessionId: () => 1,
      },
      fake.res,
      fake.req,
      {} as us_socket_context_t,
    );
    fake.returned();
    return { ...fake, done };
  }

  it('registers onAborted before waiting, and upgrades corked once the token is verified', async () => {
    const verify = pending();
    const { calls, done } = start(verify);
    expect(calls).toEqual(['onAborted']);
    verify.settle(identity);
    await done;
    expect(calls).toEqual(['onAborted', 'cork', 'upgrade']);
  });

  it('never touches the response once the client has gone', async () => {
    const verify = pending();
    const { calls, done, abort } = start(verify);
    abort();
    verify.settle(identity);
    await done;
    expect(calls).toEqual(['onAborted']);

    const refused = pending();
    const second = start(refused);
    second.abort();
    const before = await valueOf(metrics.authFailures, { reason: 'token_expired' });
    refused.settle(new AuthError('token_expired', 'jwt expired'));
    await second.done;
    expect(second.calls).toEqual(['onAborted']);
    // Still counted: the refusal happened, only its answer had nobody to go to.
    expect(await valueOf(metrics.authFailures, { reason: 'token_expired' })).toBe(before + 1);
  });

  it('keys not there yet: 503 token_keys_unavailable with retry-after, corked', async () => {
    const verify = pending();
    const { calls, done } = start(verify);
    verify.settle(new AuthError('token_keys_unavailable', 'the keys have not arrived yet'));
    await done;
    expect(calls.slice(0, 3)).toEqual(['onAborted', 'cork', 'writeStatus 503 Service Unavailable']);
    expect(calls).toContain('writeHeader retry-after: 5');
    expect(calls.at(-1)).toMatch(/^end .*"error":\{"code":"token_keys_unavailable"/);
  });

  it('a drain that began while the token was being verified refuses with 503 draining', async () => {
    const verify = pending();
    let accepting = true;
    const { calls, done } = start(verify, () => accepting);
    accepting = false;
    verify.settle(identity);
    await done;
    expect(calls).not.toContain('upgrade');
    expect(calls).toContain('writeStatus 503 Service Unavailable');
    expect(calls.at(-1)).toMatch(/"error":\{"code":"draining"/);
  });
});

describe('an issuer behind a JWKS URL, end to end (HTTPS, testkit certificate)', () => {
  const provider = 'https://idp.test/realms/fleet';
  const signer = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const jwk = { ...signer.publicKey.export({ format: 'jwk' }), kid: 'p1', use: 'sig' };
  let keysUp = false;
  let jwksServer: Server;
  let server: EdgeServer;
  let verifier: TokenVerifier;
  let url: string;

  beforeAll(async () => {
    const tls = selfSignedCertificate();
    jwksServer = createHttpsServer({ cert: tls.cert, key: tls.key }, (_req, res) => {
      if (!keysUp) res.writeHead(503).end();
      else res.writeHead(200).end(JSON.stringify({ keys: [jwk] }));
    });
    await new Promise<void>((resolve) => jwksServer.listen(0, '127.0.0.1', resolve));
    const config = loadEdgeConfig(
      {
        FLEETWIRE_HOST: '127.0.0.1',
        FLEETWIRE_PORT: '0',
        FLEETWIRE_JWT_JWKS_URL: `https://127.0.0.1:${(jwksServer.address() as AddressInfo).port}/certs`,
        FLEETWIRE_JWT_JWKS_CA_FILE: tls.certFile,
        FLEETWIRE_JWT_ISSUER: provider,
        FLEETWIRE_JWT_AUDIENCE: AUDIENCE,
        FLEETWIRE_LOG_LEVEL: 'silent',
      },
      'jwks-node',
    );
    const logger = pino({ level: 'silent' });
    verifier = await createTokenVerifier(config.auth, { logger });
    server = new EdgeServer({
      config,
      uws: loadUws({ allowFallback: false }).uws,
      verifier,
      metrics: new EdgeMetrics(createRegistry({ service: 'edge', node: 'jwks-node' })),
      logger,
    });
    url = `ws://127.0.0.1:${await server.listen()}/ws`;
  });

  afterAll(async () => {
    server.close();
    verifier.close();
    await new Promise((resolve) => jwksServer.close(resolve));
  });

  const providerToken = (): string =>
    jwt.sign({ ...device, tenant: 'acme' }, signer.privateKey, {
      algorithm: 'ES256',
      keyid: 'p1',
      issuer: provider,
      audience: AUDIENCE,
      expiresIn: 60,
    });

  it('refuses with 503 token_keys_unavailable until the keys arrive, then admits', async () => {
    expect(verifier.ready).toBe(false);
    const early = await refusedUpgrade(`${url}?token=${providerToken()}`);
    expect(early.status).toBe(503);
    expect(early.body).toMatchObject({ error: { code: 'token_keys_unavailable' } });
    expect(early.headers['retry-after']).toBe('5');

    keysUp = true;
    await verifier.refresh();
    expect(verifier.ready).toBe(true);
    const client = await TestClient.open(url, providerToken());
    await client.close();
    // A token of the old single issuer's kind (HS256 test secret) is no key of this provider.
    const hs = await refusedUpgrade(`${url}?token=${mintToken(device, { issuer: provider })}`);
    expect([hs.status, (hs.body['error'] as { code: string }).code]).toEqual([
      401,
      'token_alg_not_allowed',
    ]);
  });
});

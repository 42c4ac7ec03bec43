import { createSecretKey } from 'node:crypto';

import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';

import { RemoteJwks } from './jwks.js';
import { JwksDocument, MAX_JWKS_KEYS, remoteJwksKeys } from './keys.js';
import {
  FakeEndpoint,
  LogCapture,
  jwksOf,
  refusal,
  sign,
  signingKey,
  type SigningKey,
} from './test-support.js';
import { TokenVerifier } from './verify.js';

const ISSUER = 'https://idp.example.com/realms/fleet';
const URL_ = `${ISSUER}/protocol/openid-connect/certs`;
const MIN = 60_000;

let a1: SigningKey;
let b1: SigningKey;
let stranger: SigningKey;

beforeAll(() => {
  a1 = signingKey('a1');
  b1 = signingKey('b1', 'rsa');
  stranger = signingKey('zz');
});

/** A verifier trusting one issuer whose keys are behind a fake endpoint, on a hand-driven clock. */
function remoteIssuer(endpoint: FakeEndpoint) {
  const clock = { now: 1_000_000 };
  const logs = new LogCapture();
  const jwks = new RemoteJwks({
    url: URL_,
    issuer: ISSUER,
    fetch: endpoint.fetch,
    refreshIntervalMs: 10 * MIN,
    cooldownMs: 30_000,
    logger: logs,
    now: () => clock.now,
  });
  const verifier = new TokenVerifier({
    issuers: [{ issuer: ISSUER, audience: 'fleetwire', jwks }],
    clockToleranceSec: 5,
    requireExpiry: true,
  });
  return { verifier, jwks, clock, logs };
}

const token = (key: SigningKey, kid = key.kid): string =>
  sign(key, { issuer: ISSUER, audience: 'fleetwire', keyid: kid });

afterEach(() => {
  vi.useRealTimers();
});

describe('a JWKS URL issuer (fake endpoint, hand-driven clock)', () => {
  it('takes a token signed with a rotated-in kid after exactly one refresh', async () => {
    const endpoint = new FakeEndpoint(jwksOf(a1));
    const { verifier, jwks, clock } = remoteIssuer(endpoint);
    await verifier.start();
    expect(endpoint.calls).toBe(1);
    expect((await verifier.verify(token(a1))).subject).toBe('dev-1');
    expect(endpoint.calls).toBe(1);

    endpoint.body = jwksOf(a1, b1);
    clock.now += 31_000;
    expect((await verifier.verify(token(b1))).subject).toBe('dev-1');
    expect(endpoint.calls).toBe(2);
    expect(jwks.status()).toMatchObject({ ready: true, keys: 2, kids: ['a1', 'b1'], stale: false });
    // Known now: no further fetch.
    await verifier.verify(token(b1));
    expect(endpoint.calls).toBe(2);
    verifier.close();
  });

  it('unknown kids: concurrent tokens share one fetch, then one fetch per cooldown at most', async () => {
    const endpoint = new FakeEndpoint(jwksOf(a1));
    const { verifier, clock } = remoteIssuer(endpoint);
    await verifier.start();
    clock.now += 31_000;

    // The provider rotated b1 in; tokens of b1 and tokens of made-up kids arrive together.
    endpoint.body = jwksOf(a1, b1);
    const release = endpoint.hold();
    const flood = Array.from({ length: 50 }, (_, i) =>
      refusal(verifier.verify(token(stranger, `unknown-${i}`))),
    );
    const rotated = Array.from({ length: 20 }, () => verifier.verify(token(b1)));
    // Every one of them waits on the one fetch in flight.
    expect(endpoint.calls).toBe(2);
    release();
    for (const error of await Promise.all(flood)) {
      expect([error.code, error.status]).toEqual(['token_key_unknown', 401]);
    }
    expect((await Promise.all(rotated)).every((i) => i.subject === 'dev-1')).toBe(true);
    expect(endpoint.calls).toBe(2);

    // Within the cooldown: refused at once, no fetch.
    clock.now += 29_000;
    const again = await Promise.all(
      Array.from({ length: 50 }, (_, i) => refusal(verifier.verify(token(stranger, `x-${i}`)))),
    );
    expect(again.every((e) => e.code === 'token_key_unknown')).toBe(true);
    expect(endpoint.calls).toBe(2);

    // The next window allows one more.
    clock.now += 1_000;
    await Promise.all(
      Array.from({ length: 10 }, (_, i) => refusal(verifier.verify(token(stranger, `y-${i}`)))),
    );
    expect(endpoint.calls).toBe(3);
    // Known keys never wait, whatever the flood did.
    expect((await verifier.verify(token(a1))).subject).toBe('dev-1');
    verifier.close();
  });

  it('a stranger signing with a known kid gets token_bad_signature and costs at most one fetch', async () => {
    const endpoint = new FakeEndpoint(jwksOf(a1));
    const { verifier, clock } = remoteIssuer(endpoint);
    await verifier.start();
    clock.now += 31_000;
    const forged = token(stranger, 'a1');
    expect((await refusal(verifier.verify(forged))).code).toBe('token_bad_signature');
    expect((await refusal(verifier.verify(forged))).code).toBe('token_bad_signature');
    expect(endpoint.calls).toBe(1);
    verifier.close();
  });

  it('the endpoint down: cached keys are served stale; failures logged once per interval with a count', async () => {
    const endpoint = new FakeEndpoint(jwksOf(a1));
    const { verifier, jwks, clock, logs } = remoteIssuer(endpoint);
    await verifier.start();
    endpoint.failure = new Error('connect ECONNREFUSED');

    for (let i = 0; i < 5; i++) {
      clock.now += 31_000;
      await jwks.refresh();
      // Each attempt fails; the known key keeps verifying.
      expect((await verifier.verify(token(a1))).subject).toBe('dev-1');
    }
    expect(endpoint.calls).toBe(6);
    expect(logs.warnings).toHaveLength(1);
    expect(logs.warnings[0]).toMatchObject({
      message: 'JWKS fetch failed: serving the cached keys',
      details: { issuer: ISSUER, failures: 1, consecutiveFailures: 1, keys: 1 },
    });
    expect(jwks.status()).toMatchObject({ ready: true, stale: true, consecutiveFailures: 5 });
    expect(verifier.ready).toBe(true);

    // An interval after the first line: the next failure is logged, with the count since.
    clock.now += 10 * MIN;
    await jwks.refresh();
    expect(logs.warnings).toHaveLength(2);
    expect(logs.warnings[1]!.details).toMatchObject({ failures: 5, consecutiveFailures: 6 });

    // Back: one line says so, and the set is fresh again.
    endpoint.failure = undefined;
    clock.now += 31_000;
    await jwks.refresh();
    expect(logs.lines.at(-1)).toMatchObject({
      level: 'info',
      message: 'JWKS endpoint answers again',
      details: { failures: 6 },
    });
    expect(jwks.status()).toMatchObject({ stale: false, consecutiveFailures: 0 });
    verifier.close();
  });

  it('starts without keys when the endpoint is down: 503 token_keys_unavailable until they arrive', async () => {
    const endpoint = new FakeEndpoint(jwksOf(a1));
    endpoint.failure = new Error('connect ECONNREFUSED');
    const { verifier, clock, logs } = remoteIssuer(endpoint);
    await verifier.start();
    expect(verifier.ready).toBe(false);
    expect(verifier.status()).toMatchObject({
      ready: false,
      issuers: [{ issuer: ISSUER, staticKeys: 0, jwks: { ready: false, keys: 0 } }],
    });
    expect(logs.warnings[0]?.message).toMatch(/no keys yet/);

    // Within the cooldown of the start-up fetch: refused without a fetch.
    const early = await refusal(verifier.verify(token(a1)));
    expect([early.code, early.status]).toEqual(['token_keys_unavailable', 503]);
    expect(endpoint.calls).toBe(1);

    // The endpoint is back; the next token after the cooldown brings the keys in.
    endpoint.failure = undefined;
    clock.now += 30_000;
    expect((await verifier.verify(token(a1))).subject).toBe('dev-1');
    expect(endpoint.calls).toBe(2);
    expect(verifier.ready).toBe(true);
    verifier.close();
  });

  it('refreshes on its timer, retries at the cooldown while failing, and stops on close()', async () => {
    vi.useFakeTimers();
    const endpoint = new FakeEndpoint(jwksOf(a1));
    const jwks = new RemoteJwks({
      url: URL_,
      fetch: endpoint.fetch,
      refreshIntervalMs: 10 * MIN,
      cooldownMs: 30_000,
    });
    await jwks.start();
    expect(endpoint.calls).toBe(1);
    await vi.advanceTimersByTimeAsync(10 * MIN - 1);
    expect(endpoint.calls).toBe(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(endpoint.calls).toBe(2);

    endpoint.failure = new Error('HTTP 502');
    await vi.advanceTimersByTimeAsync(10 * MIN);
    expect(endpoint.calls).toBe(3);
    await vi.advanceTimersByTimeAsync(30_000);
    expect(endpoint.calls).toBe(4);
    endpoint.failure = undefined;
    await vi.advanceTimersByTimeAsync(30_000);
    expect(endpoint.calls).toBe(5);
    // Healthy again: back to the long period.
    await vi.advanceTimersByTimeAsync(30_000);
    expect(endpoint.calls).toBe(5);

    jwks.close();
    await vi.advanceTimersByTimeAsync(60 * MIN);
    expect(endpoint.calls).toBe(5);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('refuses a document that is not a JWKS of at most 100 keys, keeping the keys it has', async () => {
    const endpoint = new FakeEndpoint(jwksOf(a1));
    const { verifier, jwks, clock, logs } = remoteIssuer(endpoint);
    await verifier.start();
    const tooMany = { keys: Array.from({ length: MAX_JWKS_KEYS + 1 }, () => a1.jwk) };
    const bad: [unknown, RegExp][] = [
      [[a1.jwk], /not a JWKS/],
      [{ keys: 'a1' }, /not a JWKS/],
      [tooMany, /more than 100 keys/],
      [{ keys: [{ kty: 'oct', k: 'c2VjcmV0', kid: 'h' }] }, /no usable signing key \(h: kty oct\)/],
    ];
    for (const [body, problem] of bad) {
      endpoint.body = body;
      clock.now += 11 * MIN;
      await jwks.refresh();
      expect(jwks.status().lastError).toMatch(problem);
      expect((await verifier.verify(token(a1))).subject).toBe('dev-1');
    }
    expect(logs.warnings).toHaveLength(bad.length);
    verifier.close();
  });
});

describe('remoteJwksKeys', () => {
  it('takes signing keys only, each bound to the algorithm it was published for', () => {
    const ec = a1.jwk;
    const rsa = b1.jwk;
    const secret = createSecretKey(Buffer.alloc(32, 1)).export({ format: 'jwk' });
    const doc = JwksDocument.parse({
      keys: [
        ec,
        rsa,
        { ...rsa, kid: 'enc-1', use: 'enc', alg: 'RSA-OAEP' },
        { ...ec, kid: 'ps', alg: 'PS256' },
        { ...ec, kid: 'a1' },
        { ...secret, kid: 'hmac' },
        { ...ec, kid: 'private', d: 'AAAA' },
        { ...ec, kid: 'ops', key_ops: ['encrypt'] },
        { kty: 'EC', crv: 'P-384', x: 'AA', y: 'AA', kid: 'p384' },
      ],
    });
    const { keys, skipped } = remoteJwksKeys(doc, URL_);
    expect(keys.map((k) => [k.kid, k.alg])).toEqual([
      ['a1', 'ES256'],
      ['b1', 'RS256'],
    ]);
    expect(skipped).toEqual([
      'enc-1: use enc',
      'ps: published for PS256, not ES256',
      'a1: duplicate kid',
      'hmac: kty oct',
      'private: holds a private key',
      'ops: key_ops without verify',
      'p384: not a usable RSA or P-256 public key',
    ]);
  });
});

import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { ConfigError, loadConfig } from '@fleetwire/config';
import jwt from 'jsonwebtoken';
import { beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';

import { createTokenVerifier, trustedIssuers } from './issuers.js';
import { RemoteJwks } from './jwks.js';
import { KeyLoadError, loadVerificationKeys } from './keys.js';
import { AUTH_ENV, authSettings, type AuthSettings } from './settings.js';
import {
  FakeEndpoint,
  jwksOf,
  refusal,
  sign,
  signingKey,
  type SigningKey,
} from './test-support.js';
import { TokenVerifier } from './verify.js';

const A = 'https://a.example.com';
const B = 'https://b.example.com';
const SECRET = 'a-shared-secret-of-at-least-32-bytes!!';

let dir: string;
let keyA: SigningKey;
let keyB: SigningKey;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'fleetwire-issuers-'));
  // The same kid at both issuers: only the issuer tells the keys apart.
  keyA = signingKey('k1');
  keyB = signingKey('k1');
  writeFileSync(join(dir, 'b.jwks.json'), JSON.stringify(jwksOf(keyB)));
});

const settingsFromEnv = (env: Record<string, string>): AuthSettings =>
  authSettings(loadConfig(z.object(AUTH_ENV), env));

/** Issuer A behind a JWKS URL (fake endpoint), issuer B from a JWKS file. */
async function twoIssuers(): Promise<TokenVerifier> {
  const endpoint = new FakeEndpoint(jwksOf(keyA));
  return createTokenVerifier(
    {
      clockToleranceSec: 5,
      requireExpiry: true,
      audience: 'fleetwire',
      issuers: [
        { issuer: A, jwksUrl: `${A}/jwks`, allowedTenants: ['acme'] },
        { issuer: B, jwksFile: join(dir, 'b.jwks.json'), audience: 'b-api' },
      ],
    },
    { fetcherFor: () => endpoint.fetch },
  );
}

describe('several trusted issuers, each with its own keys', () => {
  it("a token of issuer A signed with issuer B's key (same kid) is refused", async () => {
    const v = await twoIssuers();
    expect((await v.verify(sign(keyA, { issuer: A, audience: 'fleetwire' }))).subject).toBe(
      'dev-1',
    );
    expect((await v.verify(sign(keyB, { issuer: B, audience: 'b-api' }))).subject).toBe('dev-1');
    const crossed = await refusal(v.verify(sign(keyB, { issuer: A, audience: 'fleetwire' })));
    expect([crossed.code, crossed.status]).toEqual(['token_bad_signature', 401]);
    const other = await refusal(v.verify(sign(keyA, { issuer: B, audience: 'b-api' })));
    expect(other.code).toBe('token_bad_signature');
    v.close();
  });

  it('each issuer has its own audience and tenants', async () => {
    const v = await twoIssuers();
    // A: the default audience, tenant acme only. B: audience b-api, every tenant.
    const wrongAud = await refusal(v.verify(sign(keyA, { issuer: A, audience: 'b-api' })));
    expect(wrongAud.code).toBe('token_bad_audience');
    const globexAtA = sign(keyA, {
      issuer: A,
      audience: 'fleetwire',
      claims: { tenant: 'globex' },
    });
    expect((await refusal(v.verify(globexAtA))).code).toBe('tenant_not_allowed');
    const globexAtB = sign(keyB, { issuer: B, audience: 'b-api', claims: { tenant: 'globex' } });
    expect((await v.verify(globexAtB)).tenant).toBe('globex');
    v.close();
  });

  it.each([
    ['an unknown issuer', { issuer: 'https://evil.example.com' }, /not trusted/],
    ['no iss at all', {}, /no iss/],
    ['an iss that is not a string', { claims: { iss: 42 } }, /not trusted/],
  ] as const)('refuses %s (token_bad_issuer)', async (_what, options, message) => {
    const v = await twoIssuers();
    const error = await refusal(v.verify(sign(keyA, { audience: 'fleetwire', ...options })));
    expect([error.code, error.status]).toEqual(['token_bad_issuer', 401]);
    expect(error.message).toMatch(message);
    v.close();
  });

  it('the issuer-less single-issuer keys: any iss when alone, only tokens without iss among named issuers', async () => {
    const base = { clockToleranceSec: 5, requireExpiry: true };
    const hs = (payload: object, options: jwt.SignOptions = {}): string =>
      jwt.sign({ sub: 'd', role: 'device', tenant: 'acme', ...payload }, SECRET, {
        expiresIn: 60,
        ...options,
      });
    // Alone (FLEETWIRE_JWT_ISSUER unset), as ever: iss is not looked at.
    const alone = await createTokenVerifier({ ...base, hs256Secret: SECRET });
    expect((await alone.verify(hs({}))).subject).toBe('d');
    expect((await alone.verify(hs({}, { issuer: 'anyone' }))).subject).toBe('d');

    // Next to named issuers: tokens without iss only; a named iss uses that issuer's keys.
    const mixed = await createTokenVerifier({
      ...base,
      hs256Secret: SECRET,
      issuers: [{ issuer: B, jwksFile: join(dir, 'b.jwks.json') }],
    });
    expect((await mixed.verify(hs({}))).subject).toBe('d');
    expect((await refusal(mixed.verify(hs({}, { issuer: 'anyone' })))).code).toBe(
      'token_bad_issuer',
    );
    // B has no HS256 key: the shared secret cannot sign for B.
    expect((await refusal(mixed.verify(hs({}, { issuer: B })))).code).toBe('token_alg_not_allowed');
    expect((await mixed.verify(sign(keyB, { issuer: B }))).subject).toBe('dev-1');
  });

  it('a token without kid uses a JWKS URL key only when its algorithm has a single key there', async () => {
    const endpoint = new FakeEndpoint(jwksOf(keyA));
    const jwks = new RemoteJwks({ url: `${A}/jwks`, fetch: endpoint.fetch });
    const v = new TokenVerifier({
      issuers: [{ issuer: A, jwks }],
      clockToleranceSec: 5,
      requireExpiry: true,
    });
    await v.start();
    const noKid = (key: SigningKey): string =>
      jwt.sign({ sub: 'd', role: 'device', tenant: 'acme' }, key.privateKey, {
        algorithm: 'ES256',
        issuer: A,
        expiresIn: 60,
      });
    expect((await v.verify(noKid(keyA))).subject).toBe('d');
    const second = signingKey('k2');
    endpoint.body = jwksOf(keyA, second);
    await v.refresh();
    expect((await refusal(v.verify(noKid(keyA)))).code).toBe('token_key_unknown');
    expect((await v.verify(sign(second, { issuer: A }))).subject).toBe('dev-1');
    v.close();
  });
});

describe('header parameters that bring their own key are refused', () => {
  it.each([
    ['crit', { crit: ['exp'] }],
    ['jku', { jku: 'https://evil.example.com/jwks' }],
    ['x5u', { x5u: 'https://evil.example.com/cert.pem' }],
    ['x5c', { x5c: ['MIIB'] }],
    ['jwk', { jwk: { kty: 'EC', crv: 'P-256', x: 'AA', y: 'AA' } }],
  ])('%s (401 token_header_refused), even with a good signature', async (name, extra) => {
    const v = await twoIssuers();
    const good = sign(keyA, { issuer: A, audience: 'fleetwire' });
    expect((await v.verify(good)).subject).toBe('dev-1');
    const token = sign(keyA, {
      issuer: A,
      audience: 'fleetwire',
      header: { alg: 'ES256', kid: 'k1', ...extra },
    });
    const error = await refusal(v.verify(token));
    expect([error.code, error.status]).toEqual(['token_header_refused', 401]);
    expect(error.message).toContain(name);
    // The single-issuer verifier refuses them the same way.
    const hs = new TokenVerifier(loadVerificationKeys({ hs256Secret: SECRET }), {
      clockToleranceSec: 5,
      requireExpiry: true,
    });
    const hsToken = jwt.sign({ sub: 'd', role: 'device', tenant: 'acme' }, SECRET, {
      expiresIn: 60,
      header: { alg: 'HS256', ...extra },
    });
    expect((await refusal(hs.verify(hsToken))).code).toBe('token_header_refused');
    v.close();
  });
});

describe('settings', () => {
  it('the single-issuer variables keep their meaning; FLEETWIRE_JWT_JWKS_URL adds a remote set', () => {
    const s = settingsFromEnv({
      FLEETWIRE_JWT_HS256_SECRET: SECRET,
      FLEETWIRE_JWT_ISSUER: 'fleetwire-test',
      FLEETWIRE_JWT_AUDIENCE: 'fleetwire',
      FLEETWIRE_TENANTS: 'acme,globex',
      FLEETWIRE_JWT_JWKS_URL: 'https://idp.example.com/certs',
      FLEETWIRE_JWT_JWKS_REFRESH_SEC: '120',
    });
    expect(s).toMatchObject({
      hs256Secret: SECRET,
      issuer: 'fleetwire-test',
      audience: 'fleetwire',
      allowedTenants: ['acme', 'globex'],
      jwksUrl: 'https://idp.example.com/certs',
      clockToleranceSec: 30,
      requireExpiry: true,
      jwks: { refreshSec: 120, cooldownSec: 30, timeoutMs: 5000 },
    });
    expect(s.issuers).toBeUndefined();
    const [only] = trustedIssuers(s);
    expect(only).toMatchObject({ issuer: 'fleetwire-test', allowedTenants: ['acme', 'globex'] });
    expect(only!.keys).toHaveLength(1);
    expect(only!.jwks?.url).toBe('https://idp.example.com/certs');
  });

  it.each([
    [{ FLEETWIRE_JWT_JWKS_URL: 'http://idp.example.com/certs' }, /FLEETWIRE_JWT_JWKS_URL/],
    [{ FLEETWIRE_JWT_JWKS_CA_FILE: '/ca.pem' }, /only with FLEETWIRE_JWT_JWKS_URL/],
    [{ FLEETWIRE_JWT_JWKS_REFRESH_SEC: '1' }, /FLEETWIRE_JWT_JWKS_REFRESH_SEC/],
  ])('refuses %j', (env, problem) => {
    expect(() => settingsFromEnv(env)).toThrow(problem);
  });

  it('FLEETWIRE_JWT_ISSUERS_FILE: validated, relative paths resolved against the file', async () => {
    const sub = join(dir, 'conf');
    mkdirSync(sub, { recursive: true });
    writeFileSync(join(sub, 'b.jwks.json'), JSON.stringify(jwksOf(keyB)));
    writeFileSync(
      join(sub, 'issuers.json'),
      JSON.stringify({
        issuers: [
          { issuer: B, jwksFile: 'b.jwks.json', tenants: ['globex'] },
          { issuer: A, jwksUrl: `${A}/jwks`, audience: 'a-api' },
        ],
      }),
    );
    const s = settingsFromEnv({
      FLEETWIRE_JWT_ISSUERS_FILE: join(sub, 'issuers.json'),
      FLEETWIRE_JWT_AUDIENCE: 'fleetwire',
    });
    expect(s.issuers).toEqual([
      { issuer: B, jwksFile: join(sub, 'b.jwks.json'), allowedTenants: ['globex'] },
      { issuer: A, jwksUrl: `${A}/jwks`, audience: 'a-api' },
    ]);
    const endpoint = new FakeEndpoint(jwksOf(keyA));
    const v = await createTokenVerifier(s, { fetcherFor: () => endpoint.fetch });
    const fromB = sign(keyB, { issuer: B, audience: 'fleetwire', claims: { tenant: 'globex' } });
    expect((await v.verify(fromB)).tenant).toBe('globex');
    expect((await v.verify(sign(keyA, { issuer: A, audience: 'a-api' }))).subject).toBe('dev-1');
    v.close();
  });

  it.each([
    ['not JSON', 'nope', /not JSON/],
    ['a bare list', JSON.stringify([{ issuer: A, jwksUrl: `${A}/jwks` }]), /\(root\)/],
    ['an issuer without keys', JSON.stringify({ issuers: [{ issuer: A }] }), /key source/],
    [
      'an http JWKS URL',
      JSON.stringify({ issuers: [{ issuer: A, jwksUrl: 'http://a/jwks' }] }),
      /issuers\.0\.jwksUrl: must be an https/,
    ],
    [
      'a CA file without URL',
      JSON.stringify({ issuers: [{ issuer: A, hs256Secret: SECRET, jwksCaFile: 'ca.pem' }] }),
      /jwksCaFile goes with jwksUrl/,
    ],
    [
      'an unknown field',
      JSON.stringify({ issuers: [{ issuer: A, hs256Secret: SECRET, jku: 'x' }] }),
      /jku/,
    ],
    [
      'an issuer twice',
      JSON.stringify({
        issuers: [
          { issuer: A, hs256Secret: SECRET },
          { issuer: A, jwksUrl: `${A}/jwks` },
        ],
      }),
      /listed twice/,
    ],
  ])('FLEETWIRE_JWT_ISSUERS_FILE refuses %s (ConfigError)', (_what, text, problem) => {
    const file = join(dir, `bad-${Math.random()}.json`);
    writeFileSync(file, text);
    const attempt = () => settingsFromEnv({ FLEETWIRE_JWT_ISSUERS_FILE: file });
    expect(attempt).toThrow(ConfigError);
    expect(attempt).toThrow(problem);
    expect(attempt).toThrow(/FLEETWIRE_JWT_ISSUERS_FILE/);
  });

  it('refuses an issuer both in the file and as FLEETWIRE_JWT_ISSUER, and no key source at all', async () => {
    const file = join(dir, 'dup.json');
    writeFileSync(file, JSON.stringify({ issuers: [{ issuer: A, jwksUrl: `${A}/jwks` }] }));
    expect(() =>
      settingsFromEnv({
        FLEETWIRE_JWT_ISSUERS_FILE: file,
        FLEETWIRE_JWT_ISSUER: A,
        FLEETWIRE_JWT_HS256_SECRET: SECRET,
      }),
    ).toThrow(/also FLEETWIRE_JWT_ISSUER/);
    await expect(createTokenVerifier(settingsFromEnv({}))).rejects.toThrow(KeyLoadError);
    await expect(createTokenVerifier(settingsFromEnv({}))).rejects.toThrow(
      /no verification key configured/,
    );
    expect(() =>
      trustedIssuers(
        settingsFromEnv({
          FLEETWIRE_JWT_JWKS_URL: 'https://idp.example.com/certs',
          FLEETWIRE_JWT_JWKS_CA_FILE: join(dir, 'missing-ca.pem'),
        }),
      ),
    ).toThrow(/cannot read key file/);
  });
});

describe('review hardening', () => {
  it('a provider key without a kid is never tried for a token that names a kid', async () => {
    const anonymous = signingKey('ignored');
    const { kid: _kid, ...jwkWithoutKid } = anonymous.jwk as Record<string, unknown>;
    const endpoint = new FakeEndpoint({ keys: [jwkWithoutKid] });
    const v = await createTokenVerifier(
      { clockToleranceSec: 5, requireExpiry: true, issuers: [{ issuer: A, jwksUrl: `${A}/jwks` }] },
      { fetcherFor: () => endpoint.fetch },
    );
    // Signed by the very key, but naming a kid the provider never published.
    const named = await refusal(v.verify(sign(anonymous, { issuer: A, keyid: 'made-up' })));
    expect(named.code).toBe('token_key_unknown');
    const withoutKid = jwt.sign(
      { sub: 'dev-1', role: 'device', tenant: 'acme' },
      anonymous.privateKey,
      { algorithm: anonymous.alg, issuer: A, expiresIn: 60 },
    );
    expect((await v.verify(withoutKid)).subject).toBe('dev-1');
    v.close();
  });

  it('several issuers, one without tenants: a loud warning naming it', async () => {
    const warnings: { details: object; message: string }[] = [];
    const logger = {
      info: () => undefined,
      warn: (details: object, message: string) => warnings.push({ details, message }),
    };
    const endpoint = new FakeEndpoint(jwksOf(keyA));
    const v = await createTokenVerifier(
      {
        clockToleranceSec: 5,
        requireExpiry: true,
        issuers: [
          { issuer: A, jwksUrl: `${A}/jwks`, allowedTenants: ['acme'] },
          { issuer: B, jwksFile: join(dir, 'b.jwks.json') },
        ],
      },
      { fetcherFor: () => endpoint.fetch, logger },
    );
    expect(warnings.filter((w) => /ANY tenant/.test(w.message))).toEqual([
      { details: { issuers: [B] }, message: expect.stringContaining('ANY tenant') },
    ]);
    v.close();
  });
});

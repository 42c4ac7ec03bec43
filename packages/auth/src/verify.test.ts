import { createHmac, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import jwt from 'jsonwebtoken';
import { beforeAll, describe, expect, it } from 'vitest';

import { AuthError } from './errors.js';
import { loadVerificationKeys, type KeySources } from './keys.js';
import { TokenVerifier, type VerifyOptions } from './verify.js';

const SECRET = 'a-shared-secret-of-at-least-32-bytes!!';
const claims = { sub: 'dev-1', role: 'device', tenant: 'acme' };
const options: VerifyOptions = {
  issuer: 'fleetwire-test',
  audience: 'fleetwire',
  clockToleranceSec: 5,
  requireExpiry: true,
  allowedTenants: ['acme', 'globex'],
};
const signOptions = { issuer: 'fleetwire-test', audience: 'fleetwire', expiresIn: 60 } as const;

const b64url = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url');

let dir: string;
let rsa: { publicKey: KeyObject; privateKey: KeyObject };
let ec: { publicKey: KeyObject; privateKey: KeyObject };
let rsaPem: string;

function verifier(sources: KeySources, overrides: Partial<VerifyOptions> = {}): TokenVerifier {
  return new TokenVerifier(loadVerificationKeys(sources), { ...options, ...overrides });
}

async function refusal(verify: () => Promise<unknown>): Promise<AuthError> {
  try {
    await verify();
  } catch (error) {
    if (error instanceof AuthError) return error;
    throw error;
  }
  throw new Error('the token was accepted');
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'fleetwire-auth-'));
  rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
  ec = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  rsaPem = rsa.publicKey.export({ type: 'spki', format: 'pem' }).toString();
  writeFileSync(join(dir, 'rsa.pem'), rsaPem);
  writeFileSync(join(dir, 'ec.pem'), ec.publicKey.export({ type: 'spki', format: 'pem' }));
  writeFileSync(
    join(dir, 'jwks.json'),
    JSON.stringify({ keys: [{ ...ec.publicKey.export({ format: 'jwk' }), kid: 'ec-1' }] }),
  );
});

describe('TokenVerifier accepts', () => {
  it('HS256, RS256 and ES256 tokens and derives the identity from the claims', async () => {
    const v = verifier({
      hs256Secret: SECRET,
      publicKeyFiles: [join(dir, 'rsa.pem'), join(dir, 'ec.pem')],
    });
    const tokens = [
      jwt.sign(claims, SECRET, { ...signOptions, algorithm: 'HS256' }),
      jwt.sign(claims, rsa.privateKey, { ...signOptions, algorithm: 'RS256' }),
      jwt.sign(claims, ec.privateKey, { ...signOptions, algorithm: 'ES256' }),
    ];
    for (const token of tokens) {
      expect(await v.verify(token)).toMatchObject({
        subject: 'dev-1',
        role: 'device',
        tenant: 'acme',
        publish: ['devices/dev-1/#'],
        subscribe: ['devices/dev-1/#'],
        command: false,
      });
    }
  });

  it('a JWKS key chosen by kid', async () => {
    const v = verifier({ jwksFile: join(dir, 'jwks.json') });
    const token = jwt.sign(claims, ec.privateKey, {
      ...signOptions,
      algorithm: 'ES256',
      keyid: 'ec-1',
    });
    expect((await v.verify(token)).subject).toBe('dev-1');
    const other = jwt.sign(claims, ec.privateKey, {
      ...signOptions,
      algorithm: 'ES256',
      keyid: 'x',
    });
    expect((await refusal(() => v.verify(other))).code).toBe('token_key_unknown');
  });

  it('an expired token within the clock skew', async () => {
    const v = verifier({ hs256Secret: SECRET });
    const exp = Math.floor(Date.now() / 1000) - 2;
    const token = jwt.sign({ ...claims, exp }, SECRET, {
      issuer: 'fleetwire-test',
      audience: 'fleetwire',
    });
    expect((await v.verify(token)).expiresAt).toBe(exp * 1000);
  });
});

describe('TokenVerifier refuses', () => {
  it('alg "none" (401 token_alg_not_allowed)', async () => {
    const v = verifier({ hs256Secret: SECRET });
    const exp = Math.floor(Date.now() / 1000) + 60;
    const token = `${b64url({ alg: 'none', typ: 'JWT' })}.${b64url({ ...claims, exp, iss: 'fleetwire-test', aud: 'fleetwire' })}.`;
    const error = await refusal(() => v.verify(token));
    expect([error.code, error.status]).toEqual(['token_alg_not_allowed', 401]);
  });

  it('HS256 signed with the RSA public key as secret (algorithm confusion)', async () => {
    const exp = Math.floor(Date.now() / 1000) + 60;
    const body = `${b64url({ alg: 'HS256', typ: 'JWT' })}.${b64url({ ...claims, exp, iss: 'fleetwire-test', aud: 'fleetwire' })}`;
    const token = `${body}.${createHmac('sha256', rsaPem).update(body).digest('base64url')}`;
    // With only the RSA key configured, HS256 is not an accepted algorithm at all …
    expect(
      (await refusal(() => verifier({ publicKeyFiles: [join(dir, 'rsa.pem')] }).verify(token)))
        .code,
    ).toBe('token_alg_not_allowed');
    // … and with an HS256 secret too, the RSA key is never used as an HMAC secret.
    const both = verifier({ hs256Secret: SECRET, publicKeyFiles: [join(dir, 'rsa.pem')] });
    expect((await refusal(() => both.verify(token))).code).toBe('token_bad_signature');
  });

  it.each([
    ['expired', { expiresIn: -60 }, {}, 'token_expired'],
    ['not yet valid', { notBefore: 120 }, {}, 'token_not_active'],
    ['for another audience', { audience: 'someone-else' }, {}, 'token_bad_audience'],
    ['from another issuer', { issuer: 'evil' }, {}, 'token_bad_issuer'],
  ] as const)('a token %s (401)', async (_what, signOverrides, payloadOverrides, code) => {
    const v = verifier({ hs256Secret: SECRET });
    const token = jwt.sign({ ...claims, ...payloadOverrides }, SECRET, {
      ...signOptions,
      ...signOverrides,
    });
    const error = await refusal(() => v.verify(token));
    expect([error.code, error.status]).toEqual([code, 401]);
  });

  it('a bad signature, a malformed token, a missing exp (401)', async () => {
    const v = verifier({ hs256Secret: SECRET });
    const forged = jwt.sign(claims, 'another-secret-of-at-least-32-bytes!!!', signOptions);
    expect((await refusal(() => v.verify(forged))).code).toBe('token_bad_signature');
    expect((await refusal(() => v.verify('not-a-jwt'))).code).toBe('token_malformed');
    const noExp = jwt.sign(claims, SECRET, { issuer: 'fleetwire-test', audience: 'fleetwire' });
    expect((await refusal(() => v.verify(noExp))).code).toBe('token_no_expiry');
  });

  it('a tenant this node does not serve (403 tenant_not_allowed)', async () => {
    const v = verifier({ hs256Secret: SECRET });
    const token = jwt.sign({ ...claims, tenant: 'initech' }, SECRET, signOptions);
    const error = await refusal(() => v.verify(token));
    expect([error.code, error.status]).toEqual(['tenant_not_allowed', 403]);
  });

  it.each([
    [{ ...claims, role: 'admin' }, /claim role/],
    [{ ...claims, tenant: '../x' }, /claim tenant/],
    [{ role: 'device', tenant: 'acme' }, /claim sub/],
    [{ ...claims, sub: 'a/b' }, /claim sub/],
    [{ ...claims, acl: { sub: ['a/#/b'] } }, /claim acl.sub.0/],
  ])('invalid claims %j (403 claims_invalid)', async (payload, message) => {
    const v = verifier({ hs256Secret: SECRET });
    const error = await refusal(() => v.verify(jwt.sign(payload, SECRET, signOptions)));
    expect([error.code, error.status]).toEqual(['claims_invalid', 403]);
    expect(error.message).toMatch(message);
  });
});

describe('loadVerificationKeys', () => {
  it('refuses a short secret, a missing file, an unsupported curve, and no keys at all', () => {
    expect(() => loadVerificationKeys({ hs256Secret: 'short' })).toThrow(/at least 32 bytes/);
    expect(() => loadVerificationKeys({ publicKeyFiles: [join(dir, 'nope.pem')] })).toThrow(
      /cannot read key file/,
    );
    const p384 = generateKeyPairSync('ec', { namedCurve: 'secp384r1' }).publicKey;
    writeFileSync(join(dir, 'p384.pem'), p384.export({ type: 'spki', format: 'pem' }));
    expect(() => loadVerificationKeys({ publicKeyFiles: [join(dir, 'p384.pem')] })).toThrow(
      /unsupported key type ec secp384r1/,
    );
    expect(() => loadVerificationKeys({})).toThrow(/no verification key configured/);
  });
});

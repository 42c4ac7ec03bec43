import { generateKeyPairSync, createHmac } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import jwt from 'jsonwebtoken';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import {
  AUDIENCE,
  ISSUER,
  TestClient,
  mintToken,
  refusedUpgrade,
  startTestEdge,
  valueOf,
  type TestEdge,
} from './test-support.js';

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
  ];

  it.each(cases)('%s → %i %s', async (_what, token, status, reason) => {
    const before = await valueOf(edge.metrics.authFailures, { reason });
    const logsBefore = edge.logs.length;
    const t = token();
    const res = await refusedUpgrade(t === undefined ? edge.url : `${edge.url}?token=${t}`);
    expect(res.status).toBe(status);
    expect(res.body).toMatchObject({ error: reason });
    expect(typeof res.body['message']).toBe('string');
    if (status === 401) expect(res.headers['www-authenticate']).toContain(reason);
    expect(await valueOf(edge.metrics.authFailures, { reason })).toBe(before + 1);
    const logged = edge.logs.slice(logsBefore).filter((l) => l['reason'] === reason);
    expect(logged).toHaveLength(1);
    expect(logged[0]).toMatchObject({ level: 40, status });
  });
});

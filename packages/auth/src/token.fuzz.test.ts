import { fuzzSettings } from '@fleetwire/testkit';
import fc from 'fast-check';
import jwt from 'jsonwebtoken';
import { describe, expect, it } from 'vitest';

import { AuthError } from './errors.js';
import { loadVerificationKeys } from './keys.js';
import { extractToken } from './token.js';
import { TokenVerifier } from './verify.js';

/** FLEETWIRE_FUZZ_SEED replays a run. */
const { seed: SEED, runs: RUNS } = fuzzSettings(5000);
const SECRET = 'a-shared-secret-of-at-least-32-bytes!!';

/** The rule the hand-written parser replaced, kept here as the reference. */
const REFERENCE = /^Bearer\s+(\S+)\s*$/i;

/** Authorization headers near the shape: scheme in any case, every kind of whitespace. */
const authorization = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc
    .tuple(
      fc.constantFrom('Bearer', 'bearer', 'BEARER', 'Bearerx', 'Bear', 'Basic', ''),
      fc.stringMatching(/^[ \t\u00a0\u2028\u3000\n]{0,3}$/),
      fc.stringMatching(/^[A-Za-z0-9._\- \t\u00a0]{0,30}$/),
      fc.stringMatching(/^[ \t\u00a0\n]{0,3}$/),
    )
    .map((parts) => parts.join('')),
);

const part = fc.oneof(
  fc.stringMatching(/^[A-Za-z0-9_-]{0,40}$/),
  fc.json().map((json) => Buffer.from(json).toString('base64url')),
  fc
    .dictionary(fc.constantFrom('alg', 'typ', 'kid', 'iss', 'crit', 'x'), fc.jsonValue())
    .map((o) => Buffer.from(JSON.stringify(o)).toString('base64url')),
);

describe(`token carriers and headers under hostile input (seed ${SEED})`, () => {
  it('the Bearer parser agrees with the regular expression it replaced', () => {
    fc.assert(
      fc.property(authorization, (header) => {
        const expected = REFERENCE.exec(header)?.[1];
        expect(extractToken({ authorization: header, protocols: '', query: '' })).toBe(expected);
      }),
      { seed: SEED, numRuns: RUNS },
    );
  });

  it('verifyNow and verify accept the same tokens and refuse the rest with the same AuthError', async () => {
    const v = new TokenVerifier(loadVerificationKeys({ hs256Secret: SECRET }), {
      clockToleranceSec: 5,
      requireExpiry: false,
    });
    const valid = jwt.sign({ sub: 'd1', role: 'device', tenant: 'acme' }, SECRET);
    const tokens = fc.oneof(
      fc.tuple(part, part, part).map((parts) => parts.join('.')),
      fc
        .tuple(part, part)
        .map(([header, payload]) => `${header}.${payload}.${valid.split('.')[2]}`),
      fc.constant(valid),
    );
    await fc.assert(
      fc.asyncProperty(tokens, async (token) => {
        let now: unknown;
        try {
          now = v.verifyNow(token);
        } catch (error) {
          now = error;
        }
        const later = await v.verify(token).catch((error: unknown) => error);
        if (now instanceof Error || later instanceof Error) {
          expect(now).toBeInstanceOf(AuthError);
          expect(later).toBeInstanceOf(AuthError);
          expect((now as AuthError).code).toBe((later as AuthError).code);
        } else {
          expect(now).toEqual(later);
        }
      }),
      { seed: SEED, numRuns: Math.min(RUNS, 2000) },
    );
    expect(v.verifyNow(valid)?.subject).toBe('d1');
  });

  it('a typ JWT header over a payload that is not JSON is refused as a token, not a crash', () => {
    const v = new TokenVerifier(loadVerificationKeys({ hs256Secret: SECRET }), {
      clockToleranceSec: 5,
      requireExpiry: false,
    });
    const header = Buffer.from('{"alg":"HS256","typ":"JWT"}').toString('base64url');
    const token = `${header}.${Buffer.from('not json').toString('base64url')}.c2ln`;
    expect(() => v.verifyNow(token)).toThrow(AuthError);
  });
});

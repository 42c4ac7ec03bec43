import jwt from 'jsonwebtoken';

import { AuthError, type AuthFailureReason } from './errors.js';
import { FleetwireClaims, identityFromClaims, type Identity } from './identity.js';
import type { Algorithm, VerificationKey } from './keys.js';

export interface VerifyOptions {
  issuer?: string | undefined;
  audience?: string | undefined;
  /** Allowed clock skew for exp/nbf, seconds. */
  clockToleranceSec: number;
  /** Refuse tokens without `exp`. */
  requireExpiry: boolean;
  /** When set, only these tenants may connect. */
  allowedTenants?: readonly string[] | undefined;
}

const JWT_SHAPE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;

function reasonOf(error: unknown): AuthFailureReason {
  if (error instanceof jwt.TokenExpiredError) return 'token_expired';
  if (error instanceof jwt.NotBeforeError) return 'token_not_active';
  if (error instanceof jwt.JsonWebTokenError) {
    if (error.message.startsWith('jwt audience invalid')) return 'token_bad_audience';
    if (error.message.startsWith('jwt issuer invalid')) return 'token_bad_issuer';
    if (error.message === 'invalid signature') return 'token_bad_signature';
  }
  return 'token_invalid';
}

/** Verifies Fleetwire tokens against a fixed key set; every refusal is an AuthError. */
export class TokenVerifier {
  private readonly algorithms: ReadonlySet<Algorithm>;

  constructor(
    private readonly keys: readonly VerificationKey[],
    private readonly options: VerifyOptions,
  ) {
    this.algorithms = new Set(keys.map((k) => k.alg));
  }

  verify(token: string): Identity {
    if (!JWT_SHAPE.test(token)) throw new AuthError('token_malformed', 'not a JWT');
    const decoded = jwt.decode(token, { complete: true });
    if (!decoded || typeof decoded.header.alg !== 'string') {
      throw new AuthError('token_malformed', 'not a JWT');
    }
    const { alg, kid } = decoded.header;
    if (!this.algorithms.has(alg as Algorithm)) {
      throw new AuthError('token_alg_not_allowed', `algorithm ${alg} is not accepted`);
    }
    const candidates = this.keys.filter(
      (k) => k.alg === alg && (kid === undefined || k.kid === undefined || k.kid === kid),
    );
    if (candidates.length === 0) throw new AuthError('token_key_unknown', `no key with kid ${kid}`);

    let payload: unknown;
    let lastError: unknown;
    for (const candidate of candidates) {
      try {
        payload = jwt.verify(token, candidate.key, {
          algorithms: [candidate.alg],
          clockTolerance: this.options.clockToleranceSec,
          ...(this.options.issuer ? { issuer: this.options.issuer } : {}),
          ...(this.options.audience ? { audience: this.options.audience } : {}),
        });
        break;
      } catch (error) {
        lastError = error;
        // Only a signature mismatch is worth trying the next key for.
        if (reasonOf(error) !== 'token_bad_signature') break;
      }
    }
    if (payload === undefined) {
      const reason = reasonOf(lastError);
      throw new AuthError(reason, (lastError as Error).message, { cause: lastError });
    }

    const claims = FleetwireClaims.safeParse(payload);
    if (!claims.success) {
      const issue = claims.error.issues[0];
      throw new AuthError(
        'claims_invalid',
        `claim ${issue?.path.join('.') || '?'}: ${issue?.message ?? 'invalid'}`,
      );
    }
    if (this.options.requireExpiry && claims.data.exp === undefined) {
      throw new AuthError('token_no_expiry', 'the token has no exp claim');
    }
    const allowed = this.options.allowedTenants;
    if (allowed && allowed.length > 0 && !allowed.includes(claims.data.tenant)) {
      throw new AuthError('tenant_not_allowed', `tenant ${claims.data.tenant} is not served here`);
    }
    return identityFromClaims(claims.data);
  }
}

import { httpStatusOf } from '@fleetwire/protocol';

/** Why a connection was refused at upgrade; also the `reason` label of the auth failure metric. */
export type AuthFailureReason =
  | 'token_missing'
  | 'token_malformed'
  | 'token_header_refused'
  | 'token_alg_not_allowed'
  | 'token_key_unknown'
  | 'token_keys_unavailable'
  | 'token_bad_signature'
  | 'token_expired'
  | 'token_not_active'
  | 'token_no_expiry'
  | 'token_bad_issuer'
  | 'token_bad_audience'
  | 'token_invalid'
  | 'claims_invalid'
  | 'tenant_not_allowed';

/**
 * A refused token. `status` is the code's HTTP status in the one catalogue (@fleetwire/protocol
 * HTTP_ERRORS): 401 when the token does not authenticate, 403 when it does but its claims do not
 * allow the connection, 503 when it cannot be checked yet (its issuer's keys are being fetched).
 */
export class AuthError extends Error {
  override readonly name = 'AuthError';
  readonly status: 401 | 403 | 503;
  constructor(
    readonly code: AuthFailureReason,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.status = httpStatusOf(code) as 401 | 403 | 503;
  }
}

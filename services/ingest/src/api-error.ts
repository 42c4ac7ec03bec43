/** Error codes of the read API besides the token ones of @fleetwire/auth (token_*, claims_*). */
export type ApiErrorCode =
  | 'invalid_parameter'
  | 'invalid_cursor'
  | 'role_not_allowed'
  | 'device_not_allowed'
  | 'not_found'
  | 'method_not_allowed'
  | 'store_unavailable'
  | 'internal';

/** A refused or failed request: answered as `{ "error": { "code", "message" } }` with `status`. */
export class ApiError extends Error {
  override readonly name = 'ApiError';
  constructor(
    readonly status: number,
    readonly code: ApiErrorCode | (string & {}),
    message: string,
  ) {
    super(message);
  }
}

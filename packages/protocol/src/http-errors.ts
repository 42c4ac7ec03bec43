/**
 * The one HTTP error contract of every Fleetwire service (edge, read API, the embedded port):
 * every refused request is answered with its status and a body
 *
 *   {"error": {"code": "<stable code>", "message": "<for humans>"}}
 *
 * Codes are stable, lowercase, and each has one status. docs/protocol.md ("HTTP errors") is the
 * reader's copy of this table.
 */
export const HTTP_ERRORS = {
  // The request itself: fix it, retrying the same request will not help.
  bad_request: { status: 400, meaning: 'the body is not valid JSON or not a valid request' },
  invalid_parameter: { status: 400, meaning: 'a path or query parameter is invalid' },
  invalid_cursor: { status: 400, meaning: 'the cursor is not one this route returned' },
  limit_exceeded: { status: 400, meaning: 'the body is nested too deep, too wide or too long' },
  bad_path: { status: 400, meaning: 'the path is not allowed (traversal, encoding)' },
  bad_handshake: { status: 400, meaning: 'a WebSocket upgrade without a valid Sec-WebSocket-Key' },
  not_found: { status: 404, meaning: 'no such route or file' },
  method_not_allowed: { status: 405, meaning: 'the route does not take this method' },
  version_conflict: { status: 409, meaning: 'the body’s version is not the document’s any more' },
  device_connected: { status: 409, meaning: 'a node holds the device: disconnect it first' },
  precondition_failed: { status: 412, meaning: 'If-Match does not name the current version' },
  body_too_large: { status: 413, meaning: 'the body is over the size limit' },
  bad_version: { status: 426, meaning: 'Sec-WebSocket-Version is not 13' },
  not_an_upgrade: { status: 426, meaning: 'a plain GET on the WebSocket path' },
  too_many_requests: {
    status: 429,
    meaning: 'the token has its maximum of requests in progress (Retry-After)',
  },
  // The token: get another one.
  token_missing: { status: 401, meaning: 'no bearer token' },
  token_malformed: { status: 401, meaning: 'not a JWT' },
  token_header_refused: { status: 401, meaning: 'the header names keys by URL or embeds one' },
  token_alg_not_allowed: { status: 401, meaning: 'the algorithm is not accepted' },
  token_key_unknown: { status: 401, meaning: 'no key of the issuer has the token’s kid' },
  token_bad_signature: { status: 401, meaning: 'the signature does not verify' },
  token_expired: { status: 401, meaning: 'exp has passed' },
  token_not_active: { status: 401, meaning: 'nbf is in the future' },
  token_no_expiry: { status: 401, meaning: 'the token has no exp' },
  token_bad_issuer: { status: 401, meaning: 'the issuer is not trusted' },
  token_bad_audience: { status: 401, meaning: 'the audience is not this service' },
  token_invalid: { status: 401, meaning: 'anything else the JWT check refuses' },
  // The token authenticates, but does not allow this: a new token of the same kind will not help.
  claims_invalid: { status: 403, meaning: 'the claims are not valid Fleetwire claims' },
  tenant_not_allowed: { status: 403, meaning: 'the tenant is not served here' },
  role_not_allowed: { status: 403, meaning: 'the token’s role may not do this' },
  forbidden: { status: 403, meaning: 'the token’s ACL does not cover this device or topic' },
  // The service: retry later, with backoff.
  draining: { status: 503, meaning: 'the node is shutting down (Retry-After)' },
  node_full: { status: 503, meaning: 'the node holds its maximum of connections (Retry-After)' },
  token_keys_unavailable: { status: 503, meaning: 'the issuer’s keys could not be fetched yet' },
  store_unavailable: { status: 503, meaning: 'the telemetry store is not reachable' },
  presence_unavailable: { status: 503, meaning: 'the presence store is not reachable' },
  state_unavailable: { status: 503, meaning: 'the device state store is not reachable' },
  state_busy: { status: 503, meaning: 'the tenant’s line of state requests here is full' },
  api_busy: { status: 503, meaning: 'the read requests in progress here are at their maximum' },
  internal: { status: 500, meaning: 'a bug: the error is logged with the request' },
} as const satisfies Record<string, { status: number; meaning: string }>;

export type HttpErrorCode = keyof typeof HTTP_ERRORS;

/** The body of every HTTP error answer. */
export interface HttpErrorBody {
  error: { code: HttpErrorCode; message: string };
}

export function httpErrorBody(code: HttpErrorCode, message: string): HttpErrorBody {
  return { error: { code, message } };
}

export function httpStatusOf(code: HttpErrorCode): number {
  return HTTP_ERRORS[code].status;
}

export function isHttpErrorCode(code: string): code is HttpErrorCode {
  return Object.hasOwn(HTTP_ERRORS, code);
}

/** A refusal anywhere below an HTTP handler: the handler answers it with the contract above. */
export class HttpError extends Error {
  override readonly name = 'HttpError';
  readonly status: number;
  constructor(
    readonly code: HttpErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.status = httpStatusOf(code);
  }
}

/**
 * A query parameter that takes one value: null when absent, refused (`invalid_parameter`) when
 * given more than once. `?limit=1&limit=5000` means nothing one could act on: taking either value
 * silently would answer something the caller may not have meant.
 */
export function singleQueryValue(params: URLSearchParams, name: string): string | null {
  const values = params.getAll(name);
  if (values.length > 1) throw new HttpError('invalid_parameter', `${name}: given more than once`);
  return values[0] ?? null;
}

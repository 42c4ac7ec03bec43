import { AuthError, extractToken, type Identity, type TokenVerifier } from '@fleetwire/auth';
import type { Logger } from 'pino';
import type { HttpRequest, HttpResponse } from 'uWebSockets.js';

import { sendError } from './http-json.js';
import type { EdgeMetrics } from './metrics.js';

export interface HttpAuthDeps {
  verifier: TokenVerifier;
  metrics: EdgeMetrics;
  logger: Logger;
}

/**
 * Verifies the bearer token of an HTTP request, which may wait for its issuer's keys: reads `req`
 * at once (it is gone after the first await), so the caller registers onAborted before calling
 * and passes what it sees. Answers 401/403/503 itself; undefined when refused or the client went
 * away.
 */
export async function authenticateRequest(
  deps: HttpAuthDeps,
  res: HttpResponse,
  req: HttpRequest,
  aborted: () => boolean,
): Promise<Identity | undefined> {
  const { verifier, metrics, logger } = deps;
  const path = req.getUrl();
  // The header only, as the read API: a token in an HTTP API address ends up in access logs
  // and browser history (the query string is for WebSocket clients that cannot set headers).
  const token = extractToken({
    authorization: req.getHeader('authorization'),
    protocols: '',
    query: '',
  });
  try {
    if (token === undefined) throw new AuthError('token_missing', 'no bearer token');
    const identity = await verifier.verify(token);
    return aborted() ? undefined : identity;
  } catch (error) {
    if (!(error instanceof AuthError)) {
      logger.error({ err: error, path }, 'api request failed');
      if (!aborted()) sendError(res, 'internal', 'internal error');
      return undefined;
    }
    metrics.authFailures.inc({ reason: error.code });
    logger.warn({ reason: error.code, path }, `api request refused: ${error.message}`);
    if (!aborted()) sendError(res, error.code, error.message);
    return undefined;
  }
}

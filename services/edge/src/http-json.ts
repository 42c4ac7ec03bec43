import { STATUS_CODES } from 'node:http';

import { httpErrorBody, httpStatusOf, type HttpErrorCode } from '@fleetwire/protocol';
import type { HttpRequest, HttpResponse } from 'uWebSockets.js';

/** `404 Not Found`: the status line uWS wants. */
export function statusLine(status: number): string {
  return `${status} ${STATUS_CODES[status] ?? ''}`.trimEnd();
}

/**
 * Answers an HTTP request with a JSON body. Corked, so it is right both inside a uWS handler and
 * from a promise callback after it (where an uncorked write would wait in uWS's buffer).
 */
export function sendJson(
  res: HttpResponse,
  status: string | number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  res.cork(() => {
    res
      .writeStatus(typeof status === 'number' ? statusLine(status) : status)
      .writeHeader('content-type', 'application/json');
    for (const [name, value] of Object.entries(headers)) res.writeHeader(name, value);
    res.end(JSON.stringify(body));
  });
}

/** A HEAD answer: the status and headers, never a body (one would break the connection's framing). */
export function sendHead(
  res: HttpResponse,
  status: string | number,
  headers: Record<string, string> = {},
): void {
  res.cork(() => {
    res.writeStatus(typeof status === 'number' ? statusLine(status) : status);
    for (const [name, value] of Object.entries(headers)) res.writeHeader(name, value);
    res.endWithoutBody(0);
  });
}

/**
 * The handler of the methods a route does not take: counted in `refusals` (by reason), then 405
 * with the methods it takes; a HEAD gets it without a body.
 */
export function methodNotAllowed(
  refusals: { inc(labels: { reason: string }): void },
  allow: string,
): (res: HttpResponse, req: HttpRequest) => void {
  return (res, req) => {
    refusals.inc({ reason: 'method_not_allowed' });
    const method = req.getMethod().toUpperCase();
    if (method === 'HEAD') {
      sendHead(res, '405 Method Not Allowed', { allow });
      return;
    }
    sendError(res, 'method_not_allowed', `${method} is not allowed here`, { allow });
  };
}

/**
 * Answers with the one HTTP error contract (`@fleetwire/protocol` HTTP_ERRORS): the code's
 * status and `{"error": {"code", "message"}}`. A 503 says when to come back.
 */
export function sendError(
  res: HttpResponse,
  code: HttpErrorCode,
  message: string,
  headers: Record<string, string> = {},
): void {
  const status = httpStatusOf(code);
  const extra: Record<string, string> = status === 503 ? { 'retry-after': '5' } : {};
  sendJson(res, status, httpErrorBody(code, message), { ...extra, ...headers });
}

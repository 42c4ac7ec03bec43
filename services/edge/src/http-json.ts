import type { HttpResponse } from 'uWebSockets.js';

/**
 * Answers an HTTP request with a JSON body. Corked, so it is right both inside a uWS handler and
 * from a promise callback after it (where an uncorked write would wait in uWS's buffer).
 */
export function sendJson(
  res: HttpResponse,
  status: string,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  res.cork(() => {
    res.writeStatus(status).writeHeader('content-type', 'application/json');
    for (const [name, value] of Object.entries(headers)) res.writeHeader(name, value);
    res.end(JSON.stringify(body));
  });
}

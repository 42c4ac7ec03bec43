import { STATUS_CODES } from 'node:http';
import { readFileSync } from 'node:fs';

import { API_ROUTES, OPENAPI_FILE, type IngestMetrics, type ReadApi } from '@fleetwire/ingest';
import type { Logger } from 'pino';
import type { HttpResponse, TemplatedApp } from 'uWebSockets.js';

export interface ReadApiRoutesDeps {
  api: ReadApi;
  metrics: IngestMetrics;
  logger: Logger;
}

/** `/v1/devices/{deviceId}/telemetry` → `/v1/*`: the prefixes the read API's routes live under. */
export const READ_API_PREFIXES = [...new Set(API_ROUTES.map((r) => `/${r.split('/')[1]}/*`))];

function statusLine(status: number): string {
  return `${status} ${STATUS_CODES[status] ?? ''}`.trimEnd();
}

/**
 * Mounts the ingest service's read API (the same `ReadApi` object, same paths, same answers) and
 * its OpenAPI document on the edge's uWS app, so the dashboard reads history from its own
 * origin. The ReadApi answers 404/405 inside its prefix itself.
 */
export function mountReadApi(app: TemplatedApp, { api, metrics, logger }: ReadApiRoutesDeps): void {
  const openapi = readFileSync(OPENAPI_FILE, 'utf8');
  app.get('/openapi.yaml', (res) => {
    res.cork(() => {
      res.writeStatus('200 OK').writeHeader('content-type', 'application/yaml').end(openapi);
    });
  });
  for (const prefix of READ_API_PREFIXES) {
    app.any(prefix, (res: HttpResponse, req) => {
      // uWS request objects die when this callback returns: copy what is needed now.
      const method = req.getMethod().toUpperCase();
      const query = req.getQuery();
      const url = query ? `${req.getUrl()}?${query}` : req.getUrl();
      const authorization = req.getHeader('authorization');
      const started = performance.now();
      let aborted = false;
      res.onAborted(() => {
        aborted = true;
      });
      api.handle({ method, url, authorization }).then(
        (response) => {
          if (response.failure !== undefined) {
            logger.error({ err: response.failure, url }, 'read API request failed');
          }
          metrics.apiRequests.inc({ route: response.route, status: String(response.status) });
          metrics.apiSeconds.observe(
            { route: response.route },
            (performance.now() - started) / 1000,
          );
          if (aborted) return;
          const body = JSON.stringify(response.body);
          res.cork(() => {
            res
              .writeStatus(statusLine(response.status))
              .writeHeader('content-type', 'application/json')
              .writeHeader('cache-control', 'no-store');
            for (const [name, value] of Object.entries(response.headers ?? {})) {
              res.writeHeader(name, value);
            }
            if (method === 'HEAD') res.endWithoutBody(Buffer.byteLength(body));
            else res.end(body);
          });
        },
        (error: unknown) => {
          logger.error({ err: error, url }, 'read API request failed');
          if (aborted) return;
          res.cork(() => {
            res
              .writeStatus('500 Internal Server Error')
              .writeHeader('content-type', 'application/json')
              .end('{"error":{"code":"internal","message":"internal error"}}');
          });
        },
      );
    });
  }
}

import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

import type { Registry } from '@fleetwire/metrics';
import type { Logger } from 'pino';

import type { ReadApi } from './api.js';
import type { IngestMetrics } from './metrics.js';

export interface Readiness {
  ready: boolean;
  checks: Record<string, boolean>;
  /** Why not ready, when a check has more to say than false ("writer stuck for 42 s"). */
  reason?: string;
}

export interface HttpServerDeps {
  api: ReadApi;
  registry: Registry;
  metrics: IngestMetrics;
  readiness: () => Promise<Readiness>;
  logger: Logger;
}

/** The OpenAPI document sits at the package root, beside both `src/` and `dist/`. */
export const OPENAPI_FILE = new URL('../openapi.yaml', import.meta.url);

/** Health, readiness, metrics, the OpenAPI document and the read API on one plain node:http server. */
export class IngestHttpServer {
  private readonly server: Server;
  private readonly openapi: string;

  constructor(private readonly deps: HttpServerDeps) {
    this.openapi = readFileSync(OPENAPI_FILE, 'utf8');
    this.server = createServer((req, res) => {
      this.route(req, res).catch((error: unknown) => {
        deps.logger.error({ err: error, url: req.url }, 'request failed');
        if (!res.headersSent)
          send(res, 500, { error: { code: 'internal', message: 'internal error' } });
        else res.destroy();
      });
    });
    // Keep-alive sockets must not hold a shutdown open.
    this.server.keepAliveTimeout = 5_000;
  }

  listen(host: string, port: number): Promise<number> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => {
        this.server.off('error', reject);
        resolve((this.server.address() as AddressInfo).port);
      });
    });
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      this.server.closeIdleConnections();
    });
  }

  private async route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0];
    switch (path) {
      case '/healthz':
        return send(res, 200, { status: 'ok' });
      case '/readyz': {
        const readiness = await this.deps.readiness();
        return send(res, readiness.ready ? 200 : 503, {
          status: readiness.ready ? 'ready' : 'not_ready',
          checks: readiness.checks,
          ...(readiness.reason === undefined ? {} : { reason: readiness.reason }),
        });
      }
      case '/metrics': {
        const text = await this.deps.registry.metrics();
        res.writeHead(200, { 'content-type': this.deps.registry.contentType });
        res.end(text);
        return;
      }
      case '/openapi.yaml':
        res.writeHead(200, { 'content-type': 'application/yaml' });
        res.end(this.openapi);
        return;
    }
    const started = performance.now();
    const response = await this.deps.api.handle({
      method: req.method ?? 'GET',
      url: req.url ?? '/',
      authorization: req.headers.authorization ?? '',
    });
    if (response.failure !== undefined) {
      this.deps.logger.error({ err: response.failure, url: req.url }, 'read API request failed');
    }
    this.deps.metrics.apiRequests.inc({ route: response.route, status: String(response.status) });
    this.deps.metrics.apiSeconds.observe(
      { route: response.route },
      (performance.now() - started) / 1000,
    );
    send(res, response.status, response.body, response.headers, req.method === 'HEAD');
  }
}

function send(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
  headOnly = false,
): void {
  const json = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(json),
    'cache-control': 'no-store',
    ...headers,
  });
  res.end(headOnly ? undefined : json);
}

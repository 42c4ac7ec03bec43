import type { Logger } from 'pino';
import type { TemplatedApp } from 'uWebSockets.js';

import { sendError, sendHead, sendJson } from './http-json.js';
import type { EdgeMetrics } from './metrics.js';

export interface OpsRoutesDeps {
  metrics: EdgeMetrics;
  logger: Logger;
  /** Each check that must hold for the node to take connections. */
  readiness: () => Record<string, boolean>;
  /** Why failing checks fail, where a check can say. */
  reasons: () => Record<string, string>;
  /** Each dependency's state (not readiness checks: reported, and exported as a metric). */
  dependencies: () => Record<string, { up: boolean; reason?: string }>;
  draining: () => boolean;
  /** The exposition text; default: the registry's own. */
  metricsText?: () => Promise<string>;
}

/** `/healthz` (the process answers), `/readyz` (it can do its job now) and `/metrics`. */
export function registerOpsRoutes(app: TemplatedApp, deps: OpsRoutesDeps): void {
  const { metrics, logger } = deps;
  const allReady = (checks: Record<string, boolean>): boolean =>
    Object.values(checks).every(Boolean);
  app.get('/healthz', (res) => sendJson(res, '200 OK', { status: 'ok' }));
  // Load balancers probe with HEAD as well: the status alone.
  app.head('/healthz', (res) => sendHead(res, '200 OK'));
  app.head('/readyz', (res) =>
    sendHead(res, allReady(deps.readiness()) ? '200 OK' : '503 Service Unavailable'),
  );
  app.get('/readyz', (res) => {
    const checks = deps.readiness();
    if (allReady(checks)) sendJson(res, '200 OK', { status: 'ready', checks });
    else
      sendJson(res, '503 Service Unavailable', {
        status: deps.draining() ? 'draining' : 'not_ready',
        checks,
        reasons: deps.reasons(),
      });
  });
  // Details for humans and dashboards: readiness, its reasons, and every dependency's state.
  app.get('/health', (res) => {
    const checks = deps.readiness();
    sendJson(res, '200 OK', {
      status: allReady(checks) ? 'ready' : deps.draining() ? 'draining' : 'not_ready',
      checks,
      reasons: deps.reasons(),
      dependencies: deps.dependencies(),
    });
  });
  metrics.dependencyUp.collectFrom(deps.dependencies);
  app.get('/metrics', (res) => {
    let aborted = false;
    res.onAborted(() => {
      aborted = true;
    });
    (deps.metricsText ?? (() => metrics.registry.metrics()))().then(
      (text) => {
        if (aborted) return;
        res.cork(() => {
          res
            .writeStatus('200 OK')
            .writeHeader('content-type', metrics.registry.contentType)
            .end(text);
        });
      },
      (error: unknown) => {
        logger.error({ err: error }, 'metrics collection failed');
        if (!aborted) sendError(res, 'internal', 'metrics collection failed');
      },
    );
  });
}

import { fileURLToPath } from 'node:url';

import { EDGE_ENV_VARIABLES, EdgeMetrics } from '@fleetwire/edge';
import { INGEST_ENV_VARIABLES, IngestMetrics } from '@fleetwire/ingest';
import { createRegistry } from '@fleetwire/metrics';
import { TelemetryLogMetrics } from '@fleetwire/telemetry-log';

export const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));

/** The FLEETWIRE_* variables a service reads: the keys of its config's zod schema. */
export function serviceEnvNames(service: 'edge' | 'ingest'): Set<string> {
  return new Set(service === 'edge' ? EDGE_ENV_VARIABLES : INGEST_ENV_VARIABLES);
}

/**
 * Every metric family the edge and ingest processes register (their own, the telemetry log's and
 * prom-client's Node defaults), as Prometheus exposes them: histograms also as _bucket, _sum,
 * _count series.
 */
export async function exposedSeriesNames(): Promise<Set<string>> {
  const edge = createRegistry({ service: 'edge', node: 'catalog' });
  new EdgeMetrics(edge);
  new TelemetryLogMetrics(edge);
  const ingest = createRegistry({ service: 'ingest', node: 'catalog' });
  new IngestMetrics(ingest);
  const names = new Set<string>();
  for (const registry of [edge, ingest]) {
    for (const metric of await registry.getMetricsAsJSON()) {
      names.add(metric.name);
      if (String(metric.type) === 'histogram') {
        for (const suffix of ['_bucket', '_sum', '_count']) names.add(`${metric.name}${suffix}`);
      }
    }
  }
  return names;
}

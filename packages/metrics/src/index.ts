import { Registry, collectDefaultMetrics } from 'prom-client';

export { AggregatorRegistry, Counter, Gauge, Histogram, Registry } from 'prom-client';
export type { MetricObjectWithValues, MetricValue } from 'prom-client';

export interface RegistryOptions {
  /** `service` label on every series: edge, ingest, … */
  service: string;
  /** `node` label: which process of the service. */
  node: string;
}

/**
 * A registry per process (never prom-client's global one, so tests can run several nodes in one
 * process) with Node's defaults: CPU, memory, GC, handles and event-loop lag.
 */
export function createRegistry({ service, node }: RegistryOptions): Registry {
  const registry = new Registry();
  registry.setDefaultLabels({ service, node });
  collectDefaultMetrics({ register: registry, eventLoopMonitoringPrecision: 20 });
  return registry;
}

/** Latency buckets in seconds, 100 µs to 10 s: message delivery and broker round trips. */
export const LATENCY_BUCKETS_SECONDS = [
  0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
];

/** Size buckets: messages per batch and the like. */
export const SIZE_BUCKETS = [1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000];

export { DependencyUpGauge } from './dependency-up.js';
export { RepeatedLog } from './repeated-log.js';

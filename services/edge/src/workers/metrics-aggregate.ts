import {
  AggregatorRegistry,
  type MetricObjectWithValues,
  type MetricValue,
} from '@fleetwire/metrics';

/** One worker's registry as `getMetricsAsJSON` gives it (it crosses threads as plain data). */
export type WorkerMetrics = MetricObjectWithValues<MetricValue<string>>[];

type Aggregator = 'sum' | 'first' | 'min' | 'max' | 'average' | 'omit';

/** Read by every worker for the whole process (CPU, RSS, file descriptors): counted once. */
const PROCESS_WIDE = /^process_/;
/** One event loop's lag: kept per worker, labelled `worker` (an average would hide a stuck one). */
const PER_WORKER = /^nodejs_eventloop_lag/;
/** A state (1 up, 0 down) the process has only while every worker has it. */
const EVERY_WORKER = new Set(['fleetwire_edge_bus_ready', 'fleetwire_dependency_up']);

const CONNECTIONS = 'fleetwire_edge_connections';
export const WORKER_CONNECTIONS = 'fleetwire_edge_worker_connections';

/**
 * The exposition text of a process with several workers: each series summed over the workers
 * (prom-client's AggregatorRegistry), except the process-wide ones (largest reading), the up/down
 * states (lowest) and the event-loop lag (one series per worker). Adds
 * `fleetwire_edge_worker_connections{worker}`, how the kernel spread the connections, and the
 * series the supervising thread measures itself (`own`: its bus), as they are.
 */
export async function aggregateWorkerMetrics(
  perWorker: readonly WorkerMetrics[],
  own: WorkerMetrics = [],
): Promise<string> {
  const adjusted = perWorker.map((metrics, worker) => [
    ...metrics.map((metric) => adjust(metric, worker)),
    workerConnections(metrics, worker),
  ]);
  return AggregatorRegistry.aggregate([...adjusted, own]).metrics();
}

function adjust(metric: WorkerMetrics[number], worker: number): WorkerMetrics[number] {
  const aggregate = (aggregator: Aggregator) =>
    ({ ...metric, aggregator }) as WorkerMetrics[number];
  if (PROCESS_WIDE.test(metric.name)) return aggregate('max');
  if (EVERY_WORKER.has(metric.name)) return aggregate('min');
  if (PER_WORKER.test(metric.name)) {
    return {
      ...metric,
      values: metric.values.map((value) => ({
        ...value,
        labels: { ...value.labels, worker: String(worker) },
      })),
    };
  }
  return metric;
}

function workerConnections(metrics: WorkerMetrics, worker: number): WorkerMetrics[number] {
  const connections = metrics.find((metric) => metric.name === CONNECTIONS);
  const first = metrics.find((metric) => metric.values.length > 0)?.values[0]?.labels ?? {};
  // The registry's default labels (service, node) are on every value.
  const { service, node } = first;
  return {
    name: WORKER_CONNECTIONS,
    help: 'Open WebSocket connections of each worker thread of the process (FLEETWIRE_WORKERS)',
    type: 'gauge',
    aggregator: 'sum',
    values: [
      {
        value: (connections?.values ?? []).reduce((sum, value) => sum + value.value, 0),
        labels: {
          ...(service === undefined ? {} : { service }),
          ...(node === undefined ? {} : { node }),
          worker: String(worker),
        },
      },
    ],
  } as unknown as WorkerMetrics[number];
}

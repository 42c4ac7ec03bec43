import { Counter, Registry, createRegistry } from '@fleetwire/metrics';
import { describe, expect, it } from 'vitest';

import { EdgeMetrics } from '../metrics.js';
import { aggregateWorkerMetrics } from './metrics-aggregate.js';

/** The series of one family in the exposition text, by their label set. */
function series(text: string, name: string): Record<string, number> {
  const found: Record<string, number> = {};
  for (const line of text.split('\n')) {
    const match = new RegExp(`^${name}(\\{[^}]*\\})? (\\S+)$`).exec(line);
    if (match) found[match[1] ?? ''] = Number(match[2]);
  }
  return found;
}

describe('aggregateWorkerMetrics', () => {
  it('sums the workers, shows process-wide series once, an up state only if every worker has it', async () => {
    const workers = [0, 1].map(
      () => new EdgeMetrics(createRegistry({ service: 'edge', node: 'p' })),
    );
    const [w0, w1] = workers as [EdgeMetrics, EdgeMetrics];
    w0.connections.inc({ role: 'device', transport: 'ws' }, 3);
    w1.connections.inc({ role: 'device', transport: 'ws' }, 4);
    w1.connections.inc({ role: 'dashboard', transport: 'ws' }, 1);
    w0.messagesIn.inc({ kind: 'telemetry', transport: 'ws' }, 10);
    w1.messagesIn.inc({ kind: 'telemetry', transport: 'ws' }, 5);
    w0.busReady.set(1);
    w1.busReady.set(0);
    const perWorker = await Promise.all(workers.map((w) => w.registry.getMetricsAsJSON()));
    const text = await aggregateWorkerMetrics(perWorker);
    expect(series(text, 'fleetwire_edge_connections')).toEqual({
      '{role="device",transport="ws",service="edge",node="p"}': 7,
      '{role="dashboard",transport="ws",service="edge",node="p"}': 1,
    });
    expect(series(text, 'fleetwire_edge_messages_in_total')).toEqual({
      '{kind="telemetry",transport="ws",service="edge",node="p"}': 15,
    });
    expect(series(text, 'fleetwire_edge_worker_connections')).toEqual({
      '{service="edge",node="p",worker="0"}': 3,
      '{service="edge",node="p",worker="1"}': 5,
    });
    expect(Object.values(series(text, 'fleetwire_edge_bus_ready'))).toEqual([0]);
    // Read by each worker for the whole process: one series, not the sum of two readings.
    const readings = perWorker.map(
      (metrics) =>
        metrics.find((m) => m.name === 'process_resident_memory_bytes')!.values[0]!.value,
    );
    expect(Object.values(series(text, 'process_resident_memory_bytes'))).toEqual([
      Math.max(...readings),
    ]);
    expect(Object.keys(series(text, 'nodejs_eventloop_lag_seconds')).sort()).toEqual([
      '{service="edge",node="p",worker="0"}',
      '{service="edge",node="p",worker="1"}',
    ]);
  });

  it('adds the series the supervising thread measures itself once, as they are', async () => {
    const worker = new EdgeMetrics(createRegistry({ service: 'edge', node: 'p' }));
    worker.connections.inc({ role: 'device', transport: 'ws' }, 2);
    const own = new Registry();
    own.setDefaultLabels({ service: 'edge', node: 'p' });
    new Counter({ name: 'fleetwire_test_own_total', help: 'test', registers: [own] }).inc(7);
    const text = await aggregateWorkerMetrics(
      [await worker.registry.getMetricsAsJSON()],
      await own.getMetricsAsJSON(),
    );
    expect(series(text, 'fleetwire_test_own_total')).toEqual({ '{service="edge",node="p"}': 7 });
    expect(series(text, 'fleetwire_edge_worker_connections')).toEqual({
      '{service="edge",node="p",worker="0"}': 2,
    });
  });
});

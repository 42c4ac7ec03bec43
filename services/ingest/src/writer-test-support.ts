import { createRegistry } from '@fleetwire/metrics';
import type { SqlClient, TelemetryRow } from '@fleetwire/store';

import { BatchWriter, type PendingRow, type WriterStore } from './batch-writer.js';
import type { DeadLetter } from './dead-letter.js';
import { IngestMetrics } from './metrics.js';
import { captureLogger } from './test-support.js';

const TS = Date.now() - 60_000;

export function nested(depth: number): Record<string, unknown> {
  let inner: unknown[] = [];
  for (let level = 2; level < depth; level += 1) inner = [inner];
  return { a: inner };
}

export function pending(
  tenant: string,
  i: number,
  data: Record<string, unknown> = { seq: i },
): PendingRow {
  const row: TelemetryRow = {
    tenant,
    deviceId: `dev-${i % 7}`,
    msgId: `msg-${i}`,
    topic: `devices/dev-${i % 7}/telemetry`,
    ts: TS + i,
    data,
  };
  return {
    row,
    source: {
      topic: 'telemetry',
      partition: 0,
      offset: String(i),
      key: null,
      value: Buffer.from(`v${i}`),
    },
  };
}

export function batch(tenant: string, n: number): PendingRow[] {
  return Array.from({ length: n }, (_, i) => pending(tenant, i));
}

export async function countTenant(client: SqlClient, tenant: string): Promise<number> {
  const { rows } = await client.query<{ n: number }>(
    'select count(*)::int as n from telemetry where tenant = $1',
    [tenant],
  );
  return rows[0]!.n;
}

/** The real store, with a count of the statements sent and a hook to fail chosen ones. */
export class CountingStore implements WriterStore {
  inserts = 0;
  probes = 0;
  constructor(
    private readonly inner: WriterStore,
    private readonly fail: (rows: readonly TelemetryRow[]) => unknown = () => undefined,
    private readonly failProbe: () => unknown = () => undefined,
  ) {}

  async insertBatch(rows: readonly TelemetryRow[]): Promise<number> {
    this.inserts += 1;
    const error = this.fail(rows);
    if (error) throw error;
    return this.inner.insertBatch(rows);
  }

  async probeWrite(): Promise<void> {
    this.probes += 1;
    const error = this.failProbe();
    if (error) throw error;
    return this.inner.probeWrite();
  }
}

export function pgError(code: string, message: string): Error {
  return Object.assign(new Error(message), { code });
}

export function setupWriter(
  writerStore: WriterStore,
  options: Partial<ConstructorParameters<typeof BatchWriter>[0]> = {},
) {
  const { logger, lines } = captureLogger();
  const metrics = new IngestMetrics(createRegistry({ service: 'ingest', node: 'writer-test' }));
  const letters: DeadLetter[] = [];
  const writer = new BatchWriter({
    store: writerStore,
    dlq: { send: async (sent: readonly DeadLetter[]) => void letters.push(...sent) },
    metrics,
    logger,
    retryBaseMs: 1,
    retryMaxMs: 5,
    ...options,
  });
  const metric = async (name: string, labels: Record<string, string> = {}) => {
    const values = (await metrics.registry.getSingleMetric(name)?.get())?.values ?? [];
    return values
      .filter((v) => Object.entries(labels).every(([k, want]) => v.labels[k] === want))
      .reduce((sum, v) => sum + v.value, 0);
  };
  return { writer, letters, lines, metric };
}

/** At most this many statements isolate one bad row among n: two per halving, plus the first. */
export function bisectBound(n: number): number {
  return 2 * Math.ceil(Math.log2(n)) + 1;
}

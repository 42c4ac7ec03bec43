import { createRegistry } from '@fleetwire/metrics';
import {
  StoreError,
  TelemetryStore,
  createPgliteClient,
  migrate,
  type SqlClient,
  type TelemetryRow,
} from '@fleetwire/store';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';

import {
  BatchWriter,
  BatchWriterStoppedError,
  type PendingRow,
  type WriterStore,
} from './batch-writer.js';
import type { DeadLetter } from './dead-letter.js';
import { IngestMetrics } from './metrics.js';
import { captureLogger } from './test-support.js';

let client: SqlClient;
let store: TelemetryStore;
beforeAll(async () => {
  client = await createPgliteClient();
  await migrate(client);
  store = new TelemetryStore(client);
});
afterAll(() => client?.close());

const TS = Date.now() - 60_000;

function nested(depth: number): Record<string, unknown> {
  let inner: unknown[] = [];
  for (let level = 2; level < depth; level += 1) inner = [inner];
  return { a: inner };
}

function pending(
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

function batch(tenant: string, n: number): PendingRow[] {
  return Array.from({ length: n }, (_, i) => pending(tenant, i));
}

async function count(tenant: string): Promise<number> {
  const { rows } = await client.query<{ n: number }>(
    'select count(*)::int as n from telemetry where tenant = $1',
    [tenant],
  );
  return rows[0]!.n;
}

/** The real store, with a count of the statements sent and a hook to fail chosen ones. */
class CountingStore implements WriterStore {
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

function pgError(code: string, message: string): Error {
  return Object.assign(new Error(message), { code });
}

function setup(
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
function bisectBound(n: number): number {
  return 2 * Math.ceil(Math.log2(n)) + 1;
}

describe('BatchWriter: rows the store refuses', () => {
  it.each([0, 499, 500, 998, 999])(
    'one refused row (at %i) among 1,000: 999 stored, it is dead-lettered with the reason, O(log n) statements',
    async (bad) => {
      const tenant = `refused-${bad}`;
      const rows = batch(tenant, 1000);
      const counting = new CountingStore(store, (sent) =>
        sent.some((r) => r.msgId === `msg-${bad}`)
          ? new StoreError(
              'store_data_rejected',
              'insert telemetry: unsupported Unicode escape sequence',
              {
                sqlState: '22P05',
              },
            )
          : undefined,
      );
      const { writer, letters, metric } = setup(counting);
      await writer.write(rows);
      expect(await count(tenant)).toBe(999);
      expect(letters).toEqual([
        {
          source: rows[bad]!.source,
          reason: 'record_rejected_by_store',
          message: 'insert telemetry: unsupported Unicode escape sequence (SQLSTATE 22P05)',
        },
      ]);
      expect(counting.inserts).toBeLessThanOrEqual(bisectBound(1000));
      expect(counting.probes).toBe(0);
      expect(await metric('fleetwire_ingest_batches_split_total')).toBe(1);
      expect(await metric('fleetwire_ingest_rows_written_total')).toBe(999);
      // A refusal is not an outage: nothing counted as a retried write error.
      expect(await metric('fleetwire_ingest_write_errors_total')).toBe(0);
    },
  );

  it('k refused rows cost O(k log n) statements, not one per row', async () => {
    const tenant = 'refused-many';
    const rows = batch(tenant, 1000);
    const bad = new Set(['msg-3', 'msg-250', 'msg-251', 'msg-640', 'msg-999']);
    const counting = new CountingStore(store, (sent) =>
      sent.some((r) => bad.has(r.msgId)) ? pgError('22021', 'invalid byte sequence') : undefined,
    );
    const { writer, letters } = setup(counting);
    await writer.write(rows);
    expect(await count(tenant)).toBe(995);
    expect(letters.map((l) => `msg-${l.source.offset}`).sort()).toEqual([...bad].sort());
    expect(counting.inserts).toBeLessThanOrEqual(bad.size * bisectBound(1000));
  });

  it('the real trigger: data nested 1,000 deep in a batch of 1,000 is refused before it reaches PGlite', async () => {
    const tenant = 'deep-real';
    const rows = batch(tenant, 1000);
    rows[321] = pending(tenant, 321, nested(1000));
    const counting = new CountingStore(store);
    const { writer, letters } = setup(counting);
    await writer.write(rows);
    expect(await count(tenant)).toBe(999);
    expect(letters).toHaveLength(1);
    expect(letters[0]).toMatchObject({
      source: { offset: '321' },
      reason: 'record_rejected_by_store',
      message: `insert telemetry: ${tenant}/dev-6 msg msg-321: data nested deeper than 128 levels`,
    });
    expect(counting.inserts).toBeLessThanOrEqual(bisectBound(1000));
    expect((await client.query('select 1 as one')).rows).toEqual([{ one: 1 }]);
  });

  it('PGlite crashing on a row (WASM trap) is bisected too: the rest stored, PGlite reopened', async () => {
    const own = await createPgliteClient();
    try {
      await migrate(own);
      // The depth guard lifted, as a store without it would be: the row reaches PGlite and traps.
      const unguarded = new TelemetryStore(own, { maxDataDepth: Number.POSITIVE_INFINITY });
      const tenant = 'deep-crash';
      const rows = batch(tenant, 1000);
      rows[700] = pending(tenant, 700, nested(2000));
      const counting = new CountingStore(unguarded);
      const { writer, letters } = setup(counting);
      await writer.write(rows);
      const { rows: stored } = await own.query<{ n: number }>(
        'select count(*)::int as n from telemetry where tenant = $1',
        [tenant],
      );
      expect(stored[0]!.n).toBe(999);
      expect(letters).toHaveLength(1);
      expect(letters[0]!.source.offset).toBe('700');
      expect(letters[0]!.message).toMatch(
        /crashed running this statement \(memory access out of bounds\)/,
      );
      expect(counting.inserts).toBeLessThanOrEqual(bisectBound(1000));
      expect(own.healthy).toBe(true);
    } finally {
      await own.close();
    }
  }, 60_000);

  it('an unknown failure (XX000) is retried, then, the store probing fine, bisected', async () => {
    const tenant = 'internal-error';
    const rows = batch(tenant, 64);
    const counting = new CountingStore(store, (sent) =>
      sent.some((r) => r.msgId === 'msg-17')
        ? pgError('XX000', 'unexpected chunk number')
        : undefined,
    );
    const { writer, letters, metric } = setup(counting, { unknownFailureLimit: 3 });
    await writer.write(rows);
    expect(await count(tenant)).toBe(63);
    expect(letters.map((l) => [l.source.offset, l.message])).toEqual([
      ['17', 'write batch: unexpected chunk number (SQLSTATE XX000)'],
    ]);
    // Three tries of the whole batch (two retried), one probe, then the halving: the same
    // failure inside it is not retried again.
    expect(counting.probes).toBe(1);
    expect(await metric('fleetwire_ingest_write_errors_total', { code: 'store_failed' })).toBe(2);
    expect(counting.inserts).toBeLessThanOrEqual(3 + bisectBound(64));
  });

  it('an unknown failure while the store itself fails its probe is waited out, nothing dead-lettered', async () => {
    const tenant = 'sick-store';
    const rows = batch(tenant, 20);
    let sick = true;
    const counting = new CountingStore(
      store,
      () => (sick ? pgError('XX000', 'could not read block') : undefined),
      () => {
        // Every probe fails like the writes; the database heals after the fourth.
        const error = sick ? pgError('XX000', 'could not read block') : undefined;
        if (counting.probes >= 4) sick = false;
        return error;
      },
    );
    const { writer, letters, metric } = setup(counting, { unknownFailureLimit: 2 });
    await writer.write(rows);
    expect(letters).toEqual([]);
    expect(await count(tenant)).toBe(20);
    expect(counting.probes).toBe(4);
    expect(await metric('fleetwire_ingest_batches_split_total')).toBe(0);
  });
});

describe('BatchWriter: outages', () => {
  const refused = () =>
    Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });
  it.each([
    ['connection refused', refused],
    [
      'admin shutdown 57P01',
      () => pgError('57P01', 'terminating connection due to administrator command'),
    ],
    ['too many connections 53300', () => pgError('53300', 'sorry, too many clients already')],
    ['deadlock 40P01', () => pgError('40P01', 'deadlock detected')],
    ['connection lost', () => new Error('Connection terminated unexpectedly')],
  ])('%s: retried until it ends, no dead letters, every row stored', async (_name, make) => {
    const tenant = `outage-${_name.replace(/\W+/g, '-')}`;
    const rows = batch(tenant, 100);
    let failures = 25;
    const counting = new CountingStore(store, () => (failures-- > 0 ? make() : undefined));
    const { writer, letters, metric } = setup(counting);
    await writer.write(rows);
    expect(letters).toEqual([]);
    expect(await count(tenant)).toBe(100);
    expect(counting.inserts).toBe(26);
    expect(counting.probes).toBe(0);
    expect(await metric('fleetwire_ingest_write_errors_total')).toBe(25);
    expect(await metric('fleetwire_ingest_batches_split_total')).toBe(0);
  });

  it('logs the first failure, then once per interval with a count, and the recovery', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    try {
      const tenant = 'outage-logs';
      let calls = 0;
      const counting = new CountingStore(store, () => {
        calls += 1;
        // Ten failures inside one interval, then the clock passes it, then five more.
        if (calls === 11) vi.setSystemTime(Date.now() + 61_000);
        return calls <= 15 ? refused() : undefined;
      });
      const { writer, lines } = setup(counting, { failureLogIntervalMs: 60_000 });
      await writer.write(batch(tenant, 5));
      const reports = lines.filter((l) => String(l['msg']).startsWith('batch write'));
      expect(reports.map((l) => [l['msg'], l['failures']])).toEqual([
        ['batch write failed; retrying', 1],
        ['batch write still failing (10 failures since the last report); retrying', 10],
        ['batch write succeeded again', 15],
      ]);
      expect(reports[0]).toMatchObject({ code: 'store_unavailable', kind: 'outage', rows: 5 });
    } finally {
      vi.useRealTimers();
    }
  });
});

describe('BatchWriter: stuck and stopped', () => {
  it('a write in hand past the bound makes it stuck (status, gauge, one log line); stop fails it at once', async () => {
    vi.useFakeTimers({ toFake: ['Date', 'setTimeout', 'clearTimeout'] });
    try {
      let started!: () => void;
      const inFlight = new Promise<void>((resolve) => (started = resolve));
      const never: WriterStore = {
        insertBatch: () => {
          started();
          return new Promise<number>(() => undefined);
        },
        probeWrite: async () => undefined,
      };
      const { writer, metric, lines } = setup(never, { stuckAfterMs: 30_000 });
      const write = writer.write(batch('stuck', 3));
      await inFlight;
      vi.advanceTimersByTime(29_000);
      expect(writer.status()).toMatchObject({ stuck: false, pendingMs: 29_000 });
      expect(await metric('fleetwire_ingest_writer_stuck')).toBe(0);
      vi.advanceTimersByTime(2_000);
      expect(writer.status()).toMatchObject({ stuck: true, pendingMs: 31_000 });
      expect(await metric('fleetwire_ingest_writer_stuck')).toBe(1);
      expect(await metric('fleetwire_ingest_write_pending_seconds')).toBe(31);
      expect(lines.filter((l) => String(l['msg']).startsWith('batch writer stuck'))).toHaveLength(
        1,
      );

      writer.stop();
      await expect(write).rejects.toBeInstanceOf(BatchWriterStoppedError);
      expect(writer.status()).toMatchObject({ stuck: false, pendingMs: 0 });
      expect(await metric('fleetwire_ingest_writer_stuck')).toBe(0);
      await expect(writer.write(batch('stuck', 1))).rejects.toBeInstanceOf(BatchWriterStoppedError);
    } finally {
      vi.useRealTimers();
    }
  });

  it('stop ends an outage retry loop: the write rejects and nothing is dead-lettered', async () => {
    let failing!: () => void;
    const firstFailure = new Promise<void>((resolve) => (failing = resolve));
    const down: WriterStore = {
      insertBatch: async () => {
        failing();
        throw Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
      },
      probeWrite: async () => undefined,
    };
    const { writer, letters } = setup(down, { retryBaseMs: 60_000, retryMaxMs: 60_000 });
    const write = writer.write(batch('down', 3));
    await firstFailure;
    writer.stop();
    await expect(write).rejects.toBeInstanceOf(BatchWriterStoppedError);
    expect(letters).toEqual([]);
  });
});

import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { BatchWriter, IngestMetrics, type WriterStore } from '@fleetwire/ingest';
import { createRegistry } from '@fleetwire/metrics';
import type { TelemetryRecord } from '@fleetwire/protocol';
import {
  StoreError,
  TelemetryStore,
  createPgliteClient,
  migrate,
  type SqlClient,
  type TelemetryRow,
} from '@fleetwire/store';
import { LogReaderError, MemoryTelemetryLog } from '@fleetwire/telemetry-log';
import { pino } from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';

import { FileDeadLetterSink } from './dead-letter-file.js';
import { LogIngest } from './log-ingest.js';
import { StoredTelemetrySink } from './stored-telemetry-sink.js';

let client: SqlClient;
let store: TelemetryStore;
let dir: string;
beforeAll(async () => {
  client = await createPgliteClient();
  await migrate(client);
  store = new TelemetryStore(client);
});
afterAll(() => client?.close());
afterEach(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function record(
  tenant: string,
  i: number,
  data: Record<string, unknown> = { seq: i },
): TelemetryRecord {
  return {
    v: 1,
    tenant,
    deviceId: `d${i % 5}`,
    msgId: `m${i}`,
    topic: `devices/d${i % 5}/telemetry`,
    ts: Date.now() - 60_000 + i,
    data,
  };
}

function nested(depth: number): Record<string, unknown> {
  let inner: unknown[] = [];
  for (let level = 2; level < depth; level += 1) inner = [inner];
  return { a: inner };
}

async function count(tenant: string): Promise<number> {
  const { rows } = await client.query<{ n: number }>(
    'select count(*)::int as n from telemetry where tenant = $1',
    [tenant],
  );
  return rows[0]!.n;
}

/** The embedded ingest path as EmbeddedFleetwire wires it: log → LogIngest → BatchWriter → store, DLQ file. */
function embeddedIngest(writerStore: WriterStore, writerOptions: { stuckAfterMs?: number } = {}) {
  dir = mkdtempSync(join(tmpdir(), 'fleetwire-ingest-'));
  const file = join(dir, 'dead-letters.jsonl');
  const metrics = new IngestMetrics(createRegistry({ service: 'fleetwire', node: 'test' }));
  const logger = pino({ level: 'silent' });
  const dlq = new FileDeadLetterSink(file);
  const log = new MemoryTelemetryLog();
  const writer = new BatchWriter({
    store: writerStore,
    dlq,
    metrics,
    logger,
    retryBaseMs: 1,
    retryMaxMs: 5,
    ...writerOptions,
  });
  const ingest = new LogIngest({
    log,
    writer,
    dlq,
    metrics,
    logger,
    maxRows: 5000,
    maxRecordBytes: 256 * 1024,
    maxFutureSkewMs: 60_000,
    retentionDays: 30,
  });
  const deadLetters = () => {
    try {
      return readFileSync(file, 'utf8')
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line) as Record<string, unknown>);
    } catch {
      return [];
    }
  };
  return {
    log,
    ingest,
    writer,
    metrics,
    deadLetters,
    sink: new StoredTelemetrySink(log, ingest, client),
  };
}

/** Appends `records` as the edge would, then lets the ingest write them all. */
async function ingestAll(
  setup: ReturnType<typeof embeddedIngest>,
  records: TelemetryRecord[],
): Promise<void> {
  for (const r of records) await setup.log.append(r);
  setup.ingest.start();
  await setup.log.close();
  await setup.ingest.drain();
}

describe('the embedded ingest (LogIngest over PGlite) with poison records', () => {
  it('one record the store refuses among 1,000: 999 stored, it is dead-lettered with the reason, the position moves on', async () => {
    const tenant = 'emb-refused';
    let inserts = 0;
    // The store refuses one specific row for its contents, as PostgreSQL would (22P05).
    const refusing: WriterStore = {
      insertBatch: async (rows: readonly TelemetryRow[]) => {
        inserts += 1;
        if (rows.some((r) => r.msgId === 'm613')) {
          throw new StoreError(
            'store_data_rejected',
            'insert telemetry: unsupported Unicode escape sequence',
            {
              sqlState: '22P05',
            },
          );
        }
        return store.insertBatch(rows);
      },
      probeWrite: () => store.probeWrite(),
    };
    const setup = embeddedIngest(refusing);
    await ingestAll(
      setup,
      Array.from({ length: 1000 }, (_, i) => record(tenant, i)),
    );
    expect(setup.ingest.position).toBe(1000);
    expect(await count(tenant)).toBe(999);
    expect(setup.deadLetters()).toEqual([
      {
        reason: 'record_rejected_by_store',
        message: 'insert telemetry: unsupported Unicode escape sequence (SQLSTATE 22P05)',
        offset: '613',
        key: `${tenant}/d3`,
        record: expect.stringContaining('"msgId":"m613"'),
      },
    ]);
    // One batch: the first statement plus two per halving at most.
    expect(inserts).toBeLessThanOrEqual(2 * Math.ceil(Math.log2(1000)) + 1);
    expect(setup.sink.ready).toBe(true);
  });

  it('the real trigger: data nested 1,000 deep among 1,000 records is set aside; 999 stored, PGlite unharmed', async () => {
    const tenant = 'emb-deep';
    const setup = embeddedIngest(store);
    const records = Array.from({ length: 1000 }, (_, i) =>
      record(tenant, i, i === 250 ? nested(1000) : { seq: i }),
    );
    await ingestAll(setup, records);
    expect(setup.ingest.position).toBe(1000);
    expect(await count(tenant)).toBe(999);
    const letters = setup.deadLetters();
    expect(letters).toHaveLength(1);
    // Refused by the record check (the bounded decoder) or, were it let through, by the store's
    // depth guard: either way before PGlite sees it.
    expect(letters[0]).toMatchObject({
      offset: '250',
      message: expect.stringMatching(/deeper than/),
    });
    expect((await client.query('select 1 as one')).rows).toEqual([{ one: 1 }]);
    expect(client.healthy).toBe(true);
  });

  it('a stuck write makes the sink not ready with the reason; stop returns within its deadline and acks nothing unwritten', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    try {
      let started!: () => void;
      const inFlight = new Promise<void>((resolve) => (started = resolve));
      const hung: WriterStore = {
        insertBatch: () => {
          started();
          return new Promise<number>(() => undefined);
        },
        probeWrite: async () => undefined,
      };
      const setup = embeddedIngest(hung, { stuckAfterMs: 30_000 });
      setup.ingest.start();
      const acked = setup.sink.append(record('emb-stuck', 1)).then(
        () => 'acked',
        (error: unknown) => error,
      );
      await inFlight;
      expect(setup.sink.ready).toBe(true);
      vi.setSystemTime(Date.now() + 31_000);
      expect(setup.sink.ready).toBe(false);
      expect(setup.sink.notReadyBecause).toBe('writer stuck for 31 s (0 failed attempts)');
      const gauge = await setup.metrics.registry
        .getSingleMetric('fleetwire_ingest_writer_stuck')
        ?.get();
      expect(gauge?.values[0]?.value).toBe(1);
      vi.useRealTimers();

      await setup.log.close();
      const before = performance.now();
      expect(await setup.ingest.stop(200)).toBe(false);
      expect(performance.now() - before).toBeLessThan(1_000);
      expect(await acked).toBeInstanceOf(LogReaderError);
      expect(await acked).toMatchObject({ code: 'LOG_READER_STOPPED' });
      expect(setup.ingest.position).toBe(0);
      // What the edge's drain waits for does not hang either.
      await setup.sink.flush();
      expect(setup.sink.ready).toBe(false);
    } finally {
      vi.useRealTimers();
    }
  });
});

import { TelemetryStore, createPgliteClient, migrate, type SqlClient } from '@fleetwire/store';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';

import { BatchWriterStoppedError, type WriterStore } from './batch-writer.js';
import { DeadLetterSendError, type DeadLetter } from './dead-letter.js';
import { CountingStore, batch, countTenant, pgError, setupWriter } from './writer-test-support.js';

let client: SqlClient;
let store: TelemetryStore;
beforeAll(async () => {
  client = await createPgliteClient();
  await migrate(client);
  store = new TelemetryStore(client);
});
afterAll(() => client?.close());

const count = (tenant: string) => countTenant(client, tenant);
const setup = setupWriter;

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
    // A database slowed down past statement_timeout: 25 timeouts, no bad row, nothing set aside.
    [
      'statement timeout 57014',
      () => pgError('57014', 'canceling statement due to statement timeout'),
    ],
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

describe('BatchWriter: the dead-letter sink failing', () => {
  it('is retried, sending again only the letters not sent yet', async () => {
    const tenant = 'dlq-partial';
    const bad = new Set(['msg-1', 'msg-4', 'msg-7']);
    const counting = new CountingStore(store, (sent) =>
      sent.some((r) => bad.has(r.msgId)) ? pgError('22021', 'invalid byte sequence') : undefined,
    );
    const sends: string[][] = [];
    const dlq = {
      send: async (letters: readonly DeadLetter[]) => {
        sends.push(letters.map((l) => l.source.offset));
        if (sends.length === 1) {
          throw new DeadLetterSendError('dead-letter send: broker away', 1, {
            withoutValue: [],
            lost: [],
          });
        }
      },
    };
    const { writer, metric, lines } = setup(counting, { dlq });
    await writer.write(batch(tenant, 10));
    expect(await count(tenant)).toBe(7);
    expect(sends).toEqual([
      ['1', '4', '7'],
      ['4', '7'],
    ]);
    expect(await metric('fleetwire_ingest_dlq_records_total')).toBe(3);
    expect(await metric('fleetwire_ingest_dlq_send_errors_total')).toBe(1);
    expect(lines.find((l) => l['msg'] === 'batch write failed; retrying')).toMatchObject({
      code: 'dlq_unavailable',
      letters: 2,
      err: { message: 'dead-letter send: broker away' },
    });
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

import {
  StoreError,
  TelemetryStore,
  createPgliteClient,
  migrate,
  type SqlClient,
} from '@fleetwire/store';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import {
  CountingStore,
  batch,
  bisectBound,
  countTenant,
  nested,
  pending,
  pgError,
  setupWriter,
} from './writer-test-support.js';

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
    // Three tries of the whole batch (two retried), one probe, then the halving: parts failing
    // the same way are split without a retry, but the row alone is tried three times (two
    // retried) and the probe asked again before it is set aside.
    expect(counting.probes).toBe(2);
    expect(await metric('fleetwire_ingest_write_errors_total', { code: 'store_failed' })).toBe(4);
    expect(counting.inserts).toBeLessThanOrEqual(3 + bisectBound(64));
  });

  it('an unknown failure that passes during the split blames no row: the row alone is retried and stored', async () => {
    const tenant = 'passing-error';
    const rows = batch(tenant, 64);
    // No bad row: the first nine statements fail (XX000), then the database is fine. The three
    // tries of the batch and the probe start a split; its first halves fail too, down to row 0
    // alone, which fails once more and then goes in.
    const counting: CountingStore = new CountingStore(store, () =>
      counting.inserts <= 9 ? pgError('XX000', 'could not read block') : undefined,
    );
    const { writer, letters, metric } = setup(counting, { unknownFailureLimit: 3 });
    await writer.write(rows);
    expect(letters).toEqual([]);
    expect(await count(tenant)).toBe(64);
    expect(counting.inserts).toBeGreaterThan(9);
    expect(counting.probes).toBe(1);
    expect(await metric('fleetwire_ingest_batches_split_total')).toBe(1);
  });

  it('a row alone is set aside for an unknown failure only after failing alone again while the probe finds the store working', async () => {
    const tenant = 'lone-row';
    const rows = batch(tenant, 8);
    let alone = 0;
    // Row 5 fails (XX000); the second and third probes fail too (the store is sick meanwhile).
    const counting: CountingStore = new CountingStore(
      store,
      (sent) => {
        if (sent.length === 1 && sent[0]!.msgId === 'msg-5') alone += 1;
        return sent.some((r) => r.msgId === 'msg-5') ? pgError('XX000', 'bad block') : undefined;
      },
      () => ([2, 3].includes(counting.probes) ? pgError('XX000', 'bad block') : undefined),
    );
    const { writer, letters } = setup(counting, { unknownFailureLimit: 2 });
    await writer.write(rows);
    expect(letters.map((l) => l.source.offset)).toEqual(['5']);
    expect(await count(tenant)).toBe(7);
    // The batch: two failures and a working probe start the split. The row alone: two failures,
    // a failing probe, another failure, a failing probe, another, and a working probe.
    expect(counting.probes).toBe(4);
    expect(alone).toBe(4);
  });
});

import type { Worker } from 'node:worker_threads';

import { afterEach, describe, expect, it } from 'vitest';

import { StoreError, sqlStateOf, toStoreError } from './errors.js';
import { createPgliteClient } from './pglite-driver.js';
import { MAX_WAITING_STATEMENTS, createPgliteThreadClient } from './pglite-thread.js';
import type { SqlClient } from './sql-client.js';
import { nestedData } from './store-contract.js';

/** A statement that keeps PGlite busy for a while (hundreds of ms here) without any table. */
const LONG = 'select count(*)::int as n from generate_series(1, 2000000) g';

/** Deep enough to trap PGlite's WASM (pglite-driver.test.ts). */
const TRAP = 'select count(*)::int as n from unnest($1::jsonb[]) d';
const trapParams = (): unknown[] => [[JSON.stringify(nestedData(2000))]];

const clients: SqlClient[] = [];
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close().catch(() => undefined)));
});

async function open(
  create: () => Promise<SqlClient> = () => createPgliteThreadClient(),
): Promise<SqlClient> {
  const client = await create();
  clients.push(client);
  await client.exec('create table t (k text primary key, v int)');
  return client;
}

/** Whether this thread's loop turned (an immediate ran) before `work` was answered. */
async function loopTurnedDuring(work: Promise<unknown>): Promise<boolean> {
  let turned = false;
  setImmediate(() => {
    turned = true;
  });
  await work;
  return turned;
}

describe('PGlite on its own thread', () => {
  it("leaves this thread's event loop free while a statement runs", async () => {
    const client = await open();
    expect(await loopTurnedDuring(client.query(LONG))).toBe(true);
  }, 60_000);

  // What the thread is for: the same statement on PGlite in this thread holds the loop.
  it('(PGlite in this thread holds the loop for the whole statement)', async () => {
    const client = await open(() => createPgliteClient());
    expect(await loopTurnedDuring(client.query(LONG))).toBe(false);
  }, 60_000);

  it('a statement sent after deferrable reads runs before those still waiting (writes before reads)', async () => {
    const client = await open();
    const answered: string[] = [];
    const reads = Array.from({ length: 4 }, (_, i) =>
      client.query(LONG, [], { deferrable: true }).then(() => answered.push(`read ${i}`)),
    );
    const write = client
      .query('insert into t values ($1, $2)', ['w', 1])
      .then(() => answered.push('write'));
    await Promise.all([...reads, write]);
    // At most the first read may have begun when the write came; the others waited for it.
    expect(answered.indexOf('write')).toBeLessThanOrEqual(1);
    expect(answered.filter((a) => a !== 'write')).toEqual(['read 0', 'read 1', 'read 2', 'read 3']);
  }, 60_000);

  it('a deferrable read lets at most 8 others pass it, however many keep coming', async () => {
    const client = await open();
    const answered: string[] = [];
    // Everything below lines up while this one runs.
    const first = client.query(LONG).then(() => answered.push('first'));
    const read = client.query('select 1 as one', [], { deferrable: true });
    const writes = Array.from({ length: 12 }, (_, i) =>
      client
        .query('insert into t values ($1, $2)', [`w${i}`, i])
        .then(() => answered.push(`w${i}`)),
    );
    await Promise.all([first, read.then(() => answered.push('read')), ...writes]);
    expect(answered.indexOf('read')).toBeLessThanOrEqual(9);
    expect(answered.indexOf('read')).toBeGreaterThan(0);
  }, 60_000);

  it('answers rows with their types (dates, JSON, bytes) and statements in the order sent', async () => {
    const client = await open();
    const answers = await Promise.all([
      client.query('insert into t values ($1, $2)', ['a', 1]),
      client.query<{ v: number }>('update t set v = v + 1 where k = $1 returning v', ['a']),
      client.query<{ at: Date; j: unknown; b: Uint8Array }>(
        "select '2024-05-01T00:00:00Z'::timestamptz as at, $1::jsonb as j, $2::bytea as b",
        [JSON.stringify({ a: [1, { b: null }] }), Buffer.from([1, 2, 3])],
      ),
    ]);
    expect(answers[1].rows).toEqual([{ v: 2 }]);
    const [row] = answers[2].rows;
    expect(row?.at).toEqual(new Date('2024-05-01T00:00:00Z'));
    expect(row?.j).toEqual({ a: [1, { b: null }] });
    expect([...(row?.b ?? [])]).toEqual([1, 2, 3]);
  }, 60_000);

  it('an error crosses with its SQLSTATE and fields, so it is classified as in this thread', async () => {
    const client = await open();
    await client.query('insert into t values ($1, $2)', ['dup', 1]);
    const error = await client.query('insert into t values ($1, $2)', ['dup', 2]).catch((e) => e);
    expect(sqlStateOf(error)).toBe('23505');
    expect(error).toMatchObject({ constraint: 't_pkey', table: 't' });
    expect(toStoreError(error, 'insert').code).toBe('store_data_rejected');
  }, 60_000);

  it('a transaction commits when its function resolves and rolls back when it throws', async () => {
    const client = await open();
    const seen = await client.transaction(async (tx) => {
      await tx.query('insert into t values ($1, $2)', ['kept', 1]);
      return (await tx.query<{ n: number }>('select count(*)::int as n from t')).rows[0]?.n;
    });
    expect(seen).toBe(1);
    const failure = new Error('changed my mind');
    await expect(
      client.transaction(async (tx) => {
        await tx.query('insert into t values ($1, $2)', ['dropped', 1]);
        throw failure;
      }),
    ).rejects.toBe(failure);
    const { rows } = await client.query<{ k: string }>('select k from t order by k');
    expect(rows).toEqual([{ k: 'kept' }]);
  }, 60_000);

  it('a statement that crashes PGlite fails as store_crashed; the thread reopens it and goes on', async () => {
    const client = await open();
    await client.query('insert into t values ($1, $2)', ['before', 1]);
    const error = await client.query(TRAP, trapParams()).catch((e) => e);
    expect(error).toBeInstanceOf(StoreError);
    expect((error as StoreError).code).toBe('store_crashed');
    const { rows } = await client.query<{ k: string }>('select k from t');
    expect(rows).toEqual([{ k: 'before' }]);
    expect(client.healthy).toBe(true);
  }, 120_000);

  it('a crash inside a transaction fails it as store_crashed (as in one thread) and rolls it back', async () => {
    const client = await open();
    const failed = await client
      .transaction(async (tx) => {
        await tx.query('insert into t values ($1, $2)', ['in-tx', 1]);
        await tx.query(TRAP, trapParams());
      })
      .catch((e: unknown) => e);
    expect(failed).toBeInstanceOf(StoreError);
    expect(failed).toMatchObject({ code: 'store_crashed' });
    expect((await client.query('select k from t')).rows).toEqual([]);
  }, 120_000);

  it('a transaction holding PGlite while the most statements wait still commits, then they run', async () => {
    const client = await open();
    let queued: Promise<unknown>[] = [];
    await client.transaction(async (tx) => {
      await tx.query('insert into t values ($1, $2)', ['first', 1]);
      // These wait for the transaction (it holds PGlite): the waiting statements are at their most.
      queued = Array.from({ length: MAX_WAITING_STATEMENTS }, (_, i) =>
        client.query('select $1::int as i', [i]),
      );
      await tx.query('insert into t values ($1, $2)', ['second', 2]);
    });
    await Promise.all(queued);
    const { rows } = await client.query<{ k: string }>('select k from t order by k');
    expect(rows).toEqual([{ k: 'first' }, { k: 'second' }]);
  }, 60_000);

  it('more statements than may wait at once: the extra ones fail at once as transient', async () => {
    const client = await open();
    const sent = Array.from({ length: MAX_WAITING_STATEMENTS + 5 }, (_, i) =>
      client.query('select $1::int as i', [i]).then(
        () => 'ok',
        (error: unknown) => error,
      ),
    );
    const answers = await Promise.all(sent);
    expect(answers.slice(0, MAX_WAITING_STATEMENTS).every((a) => a === 'ok')).toBe(true);
    for (const refused of answers.slice(MAX_WAITING_STATEMENTS)) {
      expect(refused).toMatchObject({ code: 'store_unavailable', transient: true });
    }
    expect((await client.query('select 1 as one')).rows).toEqual([{ one: 1 }]);
  }, 60_000);

  it('a thread that stops fails what waits and what follows as store_unavailable; not healthy', async () => {
    const client = await open();
    const waiting = client.query(LONG).catch((e) => e);
    // As if the thread died (a bug, out of memory): nothing of the client's own doing.
    await (client as unknown as { worker: Worker }).worker.terminate();
    expect(await waiting).toMatchObject({ code: 'store_unavailable' });
    await expect(client.query('select 1')).rejects.toMatchObject({ code: 'store_unavailable' });
    expect(client.healthy).toBe(false);
  }, 60_000);
});

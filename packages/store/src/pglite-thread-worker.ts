import { parentPort, workerData } from 'node:worker_threads';

import { StoreError } from './errors.js';
import { createPgliteClient } from './pglite-driver.js';
import {
  toWireError,
  type ThreadHealth,
  type ThreadHello,
  type ThreadReply,
  type ThreadRequest,
} from './pglite-thread-messages.js';
import type { SqlClient } from './sql-client.js';

/**
 * The PGlite thread (pglite-thread.ts): one PGlite (with its reopening after a crash) serving
 * the statements its client posts, answered by id. A transaction stays open here between its
 * `begin` and its `end`, its statements named by the transaction's id.
 */

interface OpenTransaction {
  tx: SqlClient;
  end(commit: boolean, id: number): void;
}

/** Rolls a transaction back without an error reaching anyone. */
const ROLLBACK = Symbol('rollback');

const port = parentPort;
if (!port) throw new Error('pglite-thread-worker runs as a worker thread');
const { dataDir } = workerData as { dataDir?: string };

let client: SqlClient;
try {
  client = await createPgliteClient(dataDir);
} catch (error) {
  port.postMessage({ ready: false, error: toWireError(error) } satisfies ThreadHello);
  process.exit(1);
}
port.postMessage({ ready: true } satisfies ThreadHello);

const transactions = new Map<number, OpenTransaction>();
let nextTransaction = 0;

function healthy(): boolean {
  return client.healthy !== false;
}

function reply(id: number, answer: { rows?: unknown[]; tx?: number } = {}): void {
  port?.postMessage({ id, ok: true, ...answer, healthy: healthy() } satisfies ThreadReply);
}

function fail(id: number, error: unknown): void {
  port?.postMessage({
    id,
    ok: false,
    error: toWireError(error),
    healthy: healthy(),
  } satisfies ThreadReply);
}

function target(tx: number | undefined): SqlClient {
  if (tx === undefined) return client;
  const open = transactions.get(tx);
  if (!open) throw new StoreError('store_failed', `transaction ${tx} is not open`);
  return open.tx;
}

/** Begins a transaction; resolves once it is over (committed, rolled back, or never begun). */
function begin(id: number): Promise<void> {
  const txId = (nextTransaction += 1);
  let endId = -1;
  return client
    .transaction(
      (tx) =>
        new Promise<void>((resolve, reject) => {
          transactions.set(txId, {
            tx,
            end: (commit, answerTo) => {
              endId = answerTo;
              transactions.delete(txId);
              if (commit) resolve();
              else reject(ROLLBACK);
            },
          });
          reply(id, { tx: txId });
        }),
    )
    .then(
      () => reply(endId),
      (error: unknown) => {
        transactions.delete(txId);
        // Not begun: the `begin` hears why; else the `end` that asked for the commit or rollback.
        if (endId === -1) fail(id, error);
        else if (error === ROLLBACK) reply(endId);
        else fail(endId, error);
      },
    );
}

async function handle(request: ThreadRequest): Promise<void> {
  const { id } = request;
  try {
    switch (request.op) {
      case 'query':
        reply(id, { rows: (await target(request.tx).query(request.text, request.params)).rows });
        return;
      case 'exec':
        await target(request.tx).exec(request.sql);
        reply(id);
        return;
      case 'begin':
        await begin(id);
        return;
      case 'end': {
        const open = transactions.get(request.tx);
        if (!open) throw new StoreError('store_failed', `transaction ${request.tx} is not open`);
        open.end(request.commit, id);
        return;
      }
      case 'close':
        for (const open of transactions.values()) open.end(false, -1);
        await client.close();
        reply(id);
        port?.close();
        return;
    }
  } catch (error) {
    fail(id, error);
  }
}

/**
 * Work waits its turn here and goes to PGlite one at a time (PGlite runs one statement at a time
 * anyway; a transaction's turn lasts until its end): deferrable reads only once nothing else
 * waits. Left to PGlite's own line, a flood of reads held every write queued behind them. What
 * an open transaction sends, its end and `close` go at once (the transaction holds PGlite).
 *
 * A deferrable read lets at most AGE_LIMIT others pass it.
 * A statement runs without yielding (WASM), so messages that came meanwhile are only read once
 * the loop turns: the next turn is picked in an immediate, after they were lined up.
 */
const waiting: ThreadRequest[] = [];
const deferred: ThreadRequest[] = [];
let busy = false;
/** Others that went ahead of a waiting deferrable read: at AGE_LIMIT, the read goes next. */
let passed = 0;
const AGE_LIMIT = 8;
let picking: NodeJS.Immediate | undefined;

function lineUp(request: ThreadRequest): void {
  if (request.op === 'end' || request.op === 'close' || ('tx' in request && request.tx)) {
    void handle(request);
    return;
  }
  (request.op === 'query' && request.deferrable ? deferred : waiting).push(request);
  pickSoon();
}

function pickSoon(): void {
  if (busy || picking) return;
  picking = setImmediate(() => {
    picking = undefined;
    void next();
  });
}

async function next(): Promise<void> {
  // A read waits for the others, not for ever: a steady line of them (device state under load)
  // would otherwise hold it until its client gave up, its slot in the read API taken meanwhile.
  const readsTurn = deferred.length > 0 && (waiting.length === 0 || passed >= AGE_LIMIT);
  const request = readsTurn ? deferred.shift() : waiting.shift();
  if (!request) return;
  passed = readsTurn || deferred.length === 0 ? 0 : passed + 1;
  busy = true;
  try {
    await handle(request);
  } finally {
    busy = false;
    pickSoon();
  }
}

port.on('message', lineUp);

/** How often the thread looks whether its database's health changed without a statement. */
const HEALTH_CHECK_MS = 1_000;

// A reopen that fails after the last reply turns the database unhealthy with nobody asking:
// readiness must not wait for the next statement to hear it.
let toldHealthy = true;
setInterval(() => {
  const now = healthy();
  if (now === toldHealthy) return;
  toldHealthy = now;
  port.postMessage({ healthy: now } satisfies ThreadHealth);
}, HEALTH_CHECK_MS).unref();

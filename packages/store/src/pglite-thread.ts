import { Worker } from 'node:worker_threads';

import { StoreError } from './errors.js';
import {
  fromWireError,
  type ThreadHealth,
  type ThreadHello,
  type ThreadReply,
  type ThreadRequest,
} from './pglite-thread-messages.js';
import type { QueryOptions, SqlClient } from './sql-client.js';

/**
 * Statements (and transactions) that may wait for the thread at once; more fail at once as
 * transient. What an open transaction sends is never refused: it holds PGlite, so refusing its
 * commit or rollback would leave everything behind it waiting for good.
 */
export const MAX_WAITING_STATEMENTS = 1_000;

/** How long `close` waits for the thread to close PGlite before it ends the thread anyway. */
const CLOSE_TIMEOUT_MS = 10_000;

type Request = ThreadRequest extends infer R
  ? R extends { id: number }
    ? Omit<R, 'id'>
    : never
  : never;

interface Waiting {
  resolve: (reply: Extract<ThreadReply, { ok: true }>) => void;
  reject: (error: unknown) => void;
}

/**
 * The worker thread of pglite-thread-worker: built (dist/*.js), or from source (src/*.ts, the
 * test runs), where tsx's loader hooks must be registered in the thread itself first.
 */
function startThread(dataDir: string | undefined): Worker {
  const options = { workerData: { dataDir } };
  if (!import.meta.url.endsWith('.ts')) {
    return new Worker(new URL('./pglite-thread-worker.js', import.meta.url), options);
  }
  const entry = new URL('./pglite-thread-worker.ts', import.meta.url).href;
  const tsx = import.meta.resolve('tsx/esm/api');
  const source = `import(${JSON.stringify(tsx)}).then((api) => { api.register(); return import(${JSON.stringify(entry)}); });`;
  return new Worker(source, { ...options, eval: true });
}

/**
 * PGlite on a thread of its own. PGlite runs PostgreSQL as WASM on the thread that calls it, and
 * a statement runs to its end without yielding: in the embedded process a read over a few
 * hundred thousand rows held every socket of the edge for most of a second. Here the statements
 * run on the thread and only their parameters and rows cross (structured clone).
 *
 * The same SqlClient: a transaction stays open on the thread while `fn` runs here, and holds
 * PGlite (statements from outside it wait, as with PGlite in this thread). Errors cross with
 * what callers classify them by (pglite-thread-messages.ts). A thread that stops (a bug, or
 * out of memory) fails every statement with `store_unavailable` and `healthy` turns false; it is
 * not restarted (an in-memory database would come back empty).
 */
class PgliteThreadClient implements SqlClient {
  private readonly waiting = new Map<number, Waiting>();
  private nextId = 0;
  private stopped: StoreError | undefined;
  private databaseHealthy = true;

  constructor(private readonly worker: Worker) {
    worker.on('message', (message: ThreadReply | ThreadHealth) => this.answered(message));
    // A reply that cannot be read leaves its statement unanswered: nothing can be trusted after.
    worker.on('messageerror', (error) => this.stop(`sent a reply that cannot be read: ${error}`));
    worker.on('error', (error) => this.stop(`failed: ${error.message}`));
    worker.on('exit', (code) => this.stop(`exited (${code})`));
  }

  get healthy(): boolean {
    return this.databaseHealthy && this.stopped === undefined;
  }

  query<R = Record<string, unknown>>(
    text: string,
    params?: unknown[],
    options?: QueryOptions,
  ): Promise<{ rows: R[] }> {
    return this.queryIn(undefined, text, params, options?.deferrable === true);
  }

  exec(sql: string): Promise<void> {
    return this.execIn(undefined, sql);
  }

  async transaction<T>(fn: (tx: SqlClient) => Promise<T>): Promise<T> {
    const { tx: id } = await this.call({ op: 'begin' });
    if (id === undefined) throw new StoreError('store_failed', 'the thread began no transaction');
    const tx: SqlClient = {
      query: (text, params) => this.queryIn(id, text, params),
      exec: (sql) => this.execIn(id, sql),
      transaction: (inner) => inner(tx),
      close: async () => undefined,
    };
    let result: T;
    try {
      result = await fn(tx);
    } catch (error) {
      // As in one thread: a transaction during which PGlite crashed fails as the driver says
      // (store_crashed, store_unavailable), the rollback's answer; else with `fn`'s own error.
      const rollback = await this.call({ op: 'end', tx: id, commit: false }).then(
        () => undefined,
        (failure: unknown) => failure,
      );
      throw rollback instanceof StoreError ? rollback : error;
    }
    await this.call({ op: 'end', tx: id, commit: true });
    return result;
  }

  async close(): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    try {
      if (this.stopped === undefined) {
        const timeout = new Promise<void>((resolve) => {
          timer = setTimeout(resolve, CLOSE_TIMEOUT_MS);
        });
        await Promise.race([this.call({ op: 'close' }), timeout]);
      }
    } finally {
      clearTimeout(timer);
      await this.worker.terminate();
    }
  }

  private async queryIn<R>(
    tx: number | undefined,
    text: string,
    params: unknown[] | undefined,
    deferrable = false,
  ): Promise<{ rows: R[] }> {
    const reply = await this.call({
      op: 'query',
      text,
      ...(params === undefined ? {} : { params }),
      ...(tx === undefined ? {} : { tx }),
      ...(deferrable ? { deferrable } : {}),
    });
    return { rows: (reply.rows ?? []) as R[] };
  }

  private async execIn(tx: number | undefined, sql: string): Promise<void> {
    await this.call({ op: 'exec', sql, ...(tx === undefined ? {} : { tx }) });
  }

  private call(request: Request): Promise<Extract<ThreadReply, { ok: true }>> {
    if (this.stopped) return Promise.reject(this.stopped);
    // New work only: not what an open transaction sends (see MAX_WAITING_STATEMENTS), nor `close`.
    const inTransaction = 'tx' in request && request.tx !== undefined;
    if (this.waiting.size >= MAX_WAITING_STATEMENTS && !inTransaction && request.op !== 'close') {
      return Promise.reject(
        new StoreError(
          'store_unavailable',
          `the embedded database has ${this.waiting.size} statements waiting; retry`,
          { transient: true },
        ),
      );
    }
    this.nextId += 1;
    const id = this.nextId;
    return new Promise((resolve, reject) => {
      try {
        // Parameters that cannot be cloned (or too deep to) fail here, like a driver's.
        this.worker.postMessage({ ...request, id });
      } catch (error) {
        reject(error);
        return;
      }
      this.waiting.set(id, { resolve, reject });
    });
  }

  private answered(reply: ThreadReply | ThreadHealth): void {
    this.databaseHealthy = reply.healthy;
    if (!('id' in reply)) return;
    const waiting = this.waiting.get(reply.id);
    if (!waiting) return;
    this.waiting.delete(reply.id);
    if (reply.ok) waiting.resolve(reply);
    else waiting.reject(fromWireError(reply.error));
  }

  private stop(how: string): void {
    this.stopped ??= new StoreError('store_unavailable', `the embedded database's thread ${how}`);
    for (const { reject } of this.waiting.values()) reject(this.stopped);
    this.waiting.clear();
  }
}

/**
 * PGlite (file-backed when `dataDir` is given, in memory otherwise) on a worker thread of its
 * own (see PgliteThreadClient). Resolves once the database is open.
 */
export async function createPgliteThreadClient(dataDir?: string): Promise<SqlClient> {
  const worker = startThread(dataDir);
  let onMessage = (_hello: ThreadHello): void => undefined;
  let onError = (_error: Error): void => undefined;
  let onExit = (_code: number): void => undefined;
  const hello = await new Promise<ThreadHello>((resolve, reject) => {
    onMessage = resolve;
    onError = reject;
    onExit = (code) =>
      reject(new Error(`the embedded database's thread exited (${code}) while opening`));
    worker.once('message', onMessage).once('error', onError).once('exit', onExit);
  })
    .catch((error: unknown) => {
      void worker.terminate();
      throw new StoreError('store_unavailable', `cannot start the embedded database's thread`, {
        cause: error,
      });
    })
    .finally(() => {
      // Only these: the Worker's own listeners (they ref its port) must stay.
      worker.off('message', onMessage).off('error', onError).off('exit', onExit);
    });
  if (!hello.ready) {
    await worker.terminate();
    throw fromWireError(hello.error);
  }
  return new PgliteThreadClient(worker);
}

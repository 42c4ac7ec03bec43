import { PGlite, type Transaction } from '@electric-sql/pglite';

import { StoreError, isWasmTrap } from './errors.js';
import type { SqlClient } from './sql-client.js';

type Queryable = Pick<PGlite | Transaction, 'query' | 'exec'>;

/** How long closing a crashed instance may take before the reopen goes ahead without it. */
const CLOSE_CRASHED_MS = 5_000;

/** Called with every trap a statement hit; tells whether this statement was the first to. */
type TrapCheck = (error: unknown) => void;

function wrap(target: Queryable, onError: TrapCheck): Omit<SqlClient, 'transaction' | 'close'> {
  return {
    async query<R>(text: string, params?: unknown[]) {
      try {
        const result = await target.query<R>(text, params);
        return { rows: result.rows };
      } catch (error) {
        onError(error);
        throw error;
      }
    },
    async exec(sql: string) {
      try {
        await target.exec(sql);
      } catch (error) {
        onError(error);
        throw error;
      }
    },
  };
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * One PGlite instance at a time, replaced when it crashes. PGlite is PostgreSQL compiled to WASM;
 * some inputs (JSON nested about a thousand levels deep, for one) overflow its stack and trap with
 * "memory access out of bounds" instead of raising PostgreSQL's "stack depth limit exceeded". The
 * instance is unusable afterwards: every later statement fails ("cannot drop active portal", or
 * the trap again). So the first statement that traps gets `store_crashed`, statements that were
 * queued behind it get a transient `store_unavailable`, and the instance is reopened: from its
 * data dir (PostgreSQL's crash recovery replays the WAL; committed rows are kept), or for an
 * in-memory instance from a dump of its file system taken after the crash (the files live outside
 * the WASM memory, so they survive it). Statements issued meanwhile wait for the new instance. If
 * the reopen fails, every statement fails with `store_unavailable` and `healthy` turns false.
 */
class ReopeningPglite implements SqlClient {
  private generation = 0;
  /** The generation whose instance trapped, once it did. */
  private crashedGeneration = -1;
  private reopening: Promise<void> | undefined;
  private failure: StoreError | undefined;

  constructor(
    private db: PGlite,
    private readonly dataDir: string | undefined,
  ) {}

  get healthy(): boolean {
    return this.failure === undefined;
  }

  query<R = Record<string, unknown>>(text: string, params?: unknown[]): Promise<{ rows: R[] }> {
    return this.run((db, onError) => wrap(db, onError).query<R>(text, params));
  }

  exec(sql: string): Promise<void> {
    return this.run((db, onError) => wrap(db, onError).exec(sql));
  }

  transaction<T>(fn: (tx: SqlClient) => Promise<T>): Promise<T> {
    return this.run((db, onError) =>
      db.transaction(async (raw) => {
        const tx: SqlClient = {
          ...wrap(raw, onError),
          transaction: (inner) => inner(tx),
          close: async () => undefined,
        };
        return fn(tx);
      }),
    );
  }

  async close(): Promise<void> {
    while (this.reopening) await this.reopening;
    try {
      await this.db.close();
    } catch (error) {
      // A crashed instance that could not be replaced may fail to close as well.
      if (this.failure === undefined) throw error;
    }
  }

  private async run<T>(work: (db: PGlite, onError: TrapCheck) => Promise<T>): Promise<T> {
    while (this.reopening) await this.reopening;
    if (this.failure) throw this.failure;
    const { db, generation } = this;
    let culprit = false;
    const onError: TrapCheck = (error) => {
      if (!isWasmTrap(error) || this.crashedGeneration >= generation) return;
      this.crashedGeneration = generation;
      culprit = true;
      this.reopen(generation, error);
    };
    try {
      return await work(db, onError);
    } catch (error) {
      onError(error);
      if (culprit) {
        throw new StoreError(
          'store_crashed',
          `the embedded database crashed running this statement (${messageOf(error)}); it is being reopened`,
          { cause: error },
        );
      }
      if (this.crashedGeneration >= generation) {
        throw new StoreError(
          'store_unavailable',
          `the embedded database crashed while this statement waited (${messageOf(error)}); retry`,
          { cause: error, transient: true },
        );
      }
      throw error;
    }
  }

  private reopen(generation: number, cause: unknown): void {
    const crashed = this.db;
    const reopening = (async () => {
      // An in-memory database lives only in the crashed instance's file system: keep a copy.
      const snapshot = this.dataDir === undefined ? await crashed.dumpDataDir('none') : undefined;
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        crashed.close().catch(() => undefined),
        new Promise<void>((resolve) => (timer = setTimeout(resolve, CLOSE_CRASHED_MS))),
      ]);
      clearTimeout(timer);
      this.db = await PGlite.create(
        this.dataDir === undefined ? { loadDataDir: snapshot } : { dataDir: this.dataDir },
      );
      this.generation = generation + 1;
    })();
    this.reopening = reopening.then(
      () => {
        this.reopening = undefined;
      },
      (error: unknown) => {
        this.reopening = undefined;
        this.failure = new StoreError(
          'store_unavailable',
          `the embedded database crashed (${messageOf(cause)}) and could not be reopened: ${messageOf(error)}`,
          { cause: error },
        );
      },
    );
  }
}

/**
 * PostgreSQL compiled to WASM, in this process: file-backed when `dataDir` is given, in memory
 * otherwise. One process at a time may open a data dir. A crashed instance is reopened (see
 * ReopeningPglite).
 */
export async function createPgliteClient(dataDir?: string): Promise<SqlClient> {
  const db = await PGlite.create(dataDir ? { dataDir } : {});
  return new ReopeningPglite(db, dataDir);
}

import { PGlite, type Transaction } from '@electric-sql/pglite';

import type { SqlClient } from './sql-client.js';

type Queryable = Pick<PGlite | Transaction, 'query' | 'exec'>;

function wrap(target: Queryable): Omit<SqlClient, 'transaction' | 'close'> {
  return {
    async query<R>(text: string, params?: unknown[]) {
      const result = await target.query<R>(text, params);
      return { rows: result.rows };
    },
    async exec(sql: string) {
      await target.exec(sql);
    },
  };
}

/**
 * PostgreSQL compiled to WASM, in this process: file-backed when `dataDir` is given, in memory
 * otherwise. One process at a time may open a data dir.
 */
export async function createPgliteClient(dataDir?: string): Promise<SqlClient> {
  const db = await PGlite.create(dataDir ? { dataDir } : {});
  return {
    ...wrap(db),
    transaction<T>(fn: (tx: SqlClient) => Promise<T>): Promise<T> {
      return db.transaction(async (raw) => {
        const tx: SqlClient = {
          ...wrap(raw),
          transaction: (inner) => inner(tx),
          close: async () => undefined,
        };
        return fn(tx);
      });
    },
    async close() {
      await db.close();
    },
  };
}

import pg from 'pg';

import type { SqlClient } from './sql-client.js';

export interface PgDriverOptions {
  connectionString: string;
  /** Pool size. */
  max?: number;
  /** Name shown in pg_stat_activity. */
  applicationName?: string;
  /**
   * `statement_timeout` of every connection, ms (0 or absent: none): a statement that runs or
   * waits for a lock longer fails with SQLSTATE 57014 instead of hanging its caller. Migrations
   * lift it for their own transaction.
   */
  statementTimeoutMs?: number;
}

type Queryable = Pick<pg.Pool | pg.PoolClient, 'query'>;

function wrap(target: Queryable): Omit<SqlClient, 'transaction' | 'close'> {
  return {
    async query<R>(text: string, params?: unknown[]) {
      const result = await target.query(text, params);
      return { rows: result.rows as R[] };
    },
    async exec(sql: string) {
      // Without parameters pg uses the simple protocol, which accepts several statements.
      await target.query(sql);
    },
  };
}

/** A PostgreSQL server through a `pg` pool. */
export function createPgClient(options: PgDriverOptions): SqlClient {
  const pool = new pg.Pool({
    connectionString: options.connectionString,
    max: options.max ?? 4,
    application_name: options.applicationName ?? 'fleetwire',
    // An unreachable server must fail a query (and /readyz) rather than hang it.
    connectionTimeoutMillis: 5_000,
    // A server that vanished without closing the connection is noticed by TCP keepalives.
    keepAlive: true,
    ...(options.statementTimeoutMs ? { statement_timeout: options.statementTimeoutMs } : {}),
  });
  // An idle client losing its connection emits on the pool; without a listener that crashes the
  // process. The next query gets a fresh connection and reports the outage itself.
  pool.on('error', () => undefined);
  const client: SqlClient = {
    ...wrap(pool),
    async transaction<T>(fn: (tx: SqlClient) => Promise<T>): Promise<T> {
      const conn = await pool.connect();
      let broken = false;
      try {
        await conn.query('begin');
        const tx: SqlClient = {
          ...wrap(conn),
          transaction: (inner) => inner(tx),
          close: async () => undefined,
        };
        const result = await fn(tx);
        await conn.query('commit');
        return result;
      } catch (error) {
        await conn.query('rollback').catch(() => (broken = true));
        throw error;
      } finally {
        conn.release(broken);
      }
    },
    async close() {
      await pool.end();
    },
  };
  return client;
}

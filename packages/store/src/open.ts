import { StoreError } from './errors.js';
import { createPgClient } from './pg-driver.js';
import { createPgliteClient } from './pglite-driver.js';
import { createPgliteThreadClient } from './pglite-thread.js';
import type { SqlClient } from './sql-client.js';

export interface OpenOptions {
  /** Pool size for PostgreSQL. */
  poolSize?: number;
  applicationName?: string;
  /** PostgreSQL only: `statement_timeout` of every connection, ms (see PgDriverOptions). */
  statementTimeoutMs?: number;
  /**
   * PGlite only: run it on a worker thread of its own (pglite-thread.ts), so a long statement
   * does not hold this thread (the embedded process's sockets).
   */
  ownThread?: boolean;
}

/**
 * Opens the database a URL names:
 * - `postgres://…` / `postgresql://…`: a PostgreSQL server;
 * - `pglite:memory`: an in-memory PGlite;
 * - `pglite:/absolute/dir` (or `pglite:relative/dir`): a file-backed PGlite.
 */
export async function openSqlClient(url: string, options: OpenOptions = {}): Promise<SqlClient> {
  if (/^postgres(ql)?:\/\//.test(url)) {
    return createPgClient({
      connectionString: url,
      ...(options.poolSize === undefined ? {} : { max: options.poolSize }),
      ...(options.applicationName === undefined
        ? {}
        : { applicationName: options.applicationName }),
      ...(options.statementTimeoutMs === undefined
        ? {}
        : { statementTimeoutMs: options.statementTimeoutMs }),
    });
  }
  if (url.startsWith('pglite:')) {
    const location = url.slice('pglite:'.length).replace(/^\/\/(?=\/)/, '');
    if (location === '') throw new StoreError('store_bad_url', 'pglite: needs "memory" or a dir');
    const dataDir = location === 'memory' ? undefined : location;
    return options.ownThread ? createPgliteThreadClient(dataDir) : createPgliteClient(dataDir);
  }
  throw new StoreError(
    'store_bad_url',
    'the database URL must start with postgres://, postgresql:// or pglite:',
  );
}

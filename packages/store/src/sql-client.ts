/**
 * The little the store needs from a PostgreSQL connection. Two drivers implement it: `pg` (a
 * server) and PGlite (embedded); the SQL sent through either is the same.
 */
export interface QueryOptions {
  /**
   * A read that may wait for the work already waiting (the read API's): a driver that lines
   * statements up (PGlite on its own thread) runs it once no other statement waits, so a flood
   * of reads does not hold the writes (and the acks behind them). Others ignore it.
   */
  deferrable?: boolean;
}

export interface SqlClient {
  /** One statement with `$n` parameters. */
  query<R = Record<string, unknown>>(
    text: string,
    params?: unknown[],
    options?: QueryOptions,
  ): Promise<{ rows: R[] }>;
  /** Several statements without parameters (a migration file). */
  exec(sql: string): Promise<void>;
  /** Runs `fn` in one transaction: committed when it resolves, rolled back when it throws. */
  transaction<T>(fn: (tx: SqlClient) => Promise<T>): Promise<T>;
  close(): Promise<void>;
  /**
   * False once the client knows it cannot run statements any more (PGlite crashed and could not
   * be reopened); readiness reports it. Absent or true otherwise.
   */
  readonly healthy?: boolean;
}

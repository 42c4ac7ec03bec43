/**
 * What went wrong, by what the caller should do next:
 * - `store_unavailable`, `store_conflict`: transient; retry the same work later.
 * - `store_data_rejected`: a value the database refuses (bad text, bad JSON…); retrying the same
 *   rows fails again, so the caller must isolate and set them aside.
 * - `store_bad_url`, `store_migration_failed`, `store_failed`: configuration or bugs.
 */
export type StoreErrorCode =
  | 'store_unavailable'
  | 'store_conflict'
  | 'store_data_rejected'
  | 'store_bad_url'
  | 'store_migration_failed'
  | 'store_failed';

export class StoreError extends Error {
  override readonly name = 'StoreError';
  constructor(
    readonly code: StoreErrorCode,
    message: string,
    options?: { cause?: unknown; sqlState?: string },
  ) {
    super(message, options);
    this.sqlState = options?.sqlState;
  }
  readonly sqlState: string | undefined;
}

/** The SQLSTATE of a pg or PGlite error, if it has one. */
export function sqlStateOf(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) ? code : undefined;
}

/** Wraps a driver error into a StoreError whose code says whether retrying can help. */
export function toStoreError(error: unknown, what: string): StoreError {
  if (error instanceof StoreError) return error;
  const sqlState = sqlStateOf(error);
  const message = `${what}: ${(error as Error)?.message ?? String(error)}`;
  const options = { cause: error, ...(sqlState ? { sqlState } : {}) };
  if (sqlState === undefined) return new StoreError('store_unavailable', message, options);
  const sqlClass = sqlState.slice(0, 2);
  // 08 connection, 53 resources, 57 operator intervention (shutdown, cancel), 58 system error.
  if (['08', '53', '57', '58'].includes(sqlClass)) {
    return new StoreError('store_unavailable', message, options);
  }
  // 40 serialization failure / deadlock: the same work succeeds when retried.
  if (sqlClass === '40') return new StoreError('store_conflict', message, options);
  // 22 data exception (bad encoding, bad JSON, out of range).
  if (sqlClass === '22') return new StoreError('store_data_rejected', message, options);
  return new StoreError('store_failed', message, options);
}

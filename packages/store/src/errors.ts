/**
 * What went wrong, by what the caller should do next:
 * - `store_unavailable`, `store_conflict`: transient; retry the same work later.
 * - `store_data_rejected`: a value the database refuses (bad text, bad JSON, too deep, a limit of
 *   PostgreSQL…); retrying the same rows fails again, so the caller must isolate and set them aside.
 * - `store_crashed`: the embedded database (PGlite, PostgreSQL compiled to WASM) trapped running the
 *   statement ("memory access out of bounds", "unreachable"); the client reopens it on its own. The
 *   statement's input is the prime suspect: isolate as for `store_data_rejected`.
 * - `store_bad_url`, `store_migration_failed`, `store_failed`: configuration, bugs, or a failure
 *   whose cause is not known (`sqlState` says more).
 */
export type StoreErrorCode =
  | 'store_unavailable'
  | 'store_conflict'
  | 'store_data_rejected'
  | 'store_crashed'
  | 'store_bad_url'
  | 'store_migration_failed'
  | 'store_failed';

export interface StoreErrorOptions {
  cause?: unknown;
  sqlState?: string;
  /** The driver knows the same work succeeds when retried (the embedded database is reopening). */
  transient?: boolean;
}

export class StoreError extends Error {
  override readonly name = 'StoreError';
  readonly sqlState: string | undefined;
  readonly transient: boolean;
  constructor(
    readonly code: StoreErrorCode,
    message: string,
    options?: StoreErrorOptions,
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.sqlState = options?.sqlState;
    this.transient = options?.transient ?? false;
  }
}

/** The SQLSTATE of a pg or PGlite error, if it has one. */
export function sqlStateOf(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) ? code : undefined;
}

/** A WebAssembly trap: PGlite's PostgreSQL crashed ("memory access out of bounds", "unreachable"). */
export function isWasmTrap(error: unknown): boolean {
  return error instanceof Error && error.name === 'RuntimeError';
}

/** JavaScript ran out of stack on a value (serialising a deeply nested one). */
function isStackOverflow(error: unknown): boolean {
  return error instanceof RangeError && /call stack/i.test(error.message);
}

/** Wraps a driver error into a StoreError whose code says whether retrying can help. */
export function toStoreError(error: unknown, what: string): StoreError {
  if (error instanceof StoreError) return error;
  const sqlState = sqlStateOf(error);
  const message = `${what}: ${(error as Error)?.message ?? String(error)}`;
  const options = { cause: error, ...(sqlState ? { sqlState } : {}) };
  if (sqlState === undefined) {
    if (isWasmTrap(error)) return new StoreError('store_crashed', message, options);
    if (isStackOverflow(error)) return new StoreError('store_data_rejected', message, options);
    return new StoreError('store_unavailable', message, options);
  }
  const sqlClass = sqlState.slice(0, 2);
  // 08 connection, 53 resources, 57 operator intervention (shutdown, cancel), 58 system error.
  if (['08', '53', '57', '58'].includes(sqlClass)) {
    return new StoreError('store_unavailable', message, options);
  }
  // 40 serialization failure / deadlock: the same work succeeds when retried.
  if (sqlClass === '40') return new StoreError('store_conflict', message, options);
  // 22 data exception (bad encoding, bad JSON, out of range, untranslatable character), 23 integrity
  // constraint (the missing-partition 23514 is handled by the insert itself), 54 program limit
  // exceeded (stack depth, jsonb and array sizes).
  if (['22', '23', '54'].includes(sqlClass)) {
    return new StoreError('store_data_rejected', message, options);
  }
  return new StoreError('store_failed', message, options);
}

/**
 * How a writer should treat a failed write:
 * - `outage`: the database, not the rows, is the problem (unreachable, shutting down, out of
 *   connections, deadlock, lock wait, statement timeout): retry the same rows with backoff, for as
 *   long as it takes.
 * - `data`: the rows are (retrying them fails the same way): split the batch to find the refused rows.
 * - `unknown`: could be either (internal error `XX000`, a schema error, a JavaScript error): retry a
 *   few times, then ask the database whether it works (`TelemetryStore.probeWrite`); if it does,
 *   treat the rows as the cause.
 */
export type WriteFailureKind = 'outage' | 'data' | 'unknown';

/** SQLSTATEs (beyond whole classes 08, 40, 53, 58) that mean "the database, retry later". */
const OUTAGE_STATES = new Set([
  '57P01', // admin_shutdown
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now (starting up, recovering)
  '57P04', // database_dropped
  '57P05', // idle_session_timeout
  // query_canceled: `statement_timeout` or a cancel. Rows are bounded in size and depth (the edge
  // and the ingest's record check refuse bigger or deeper ones), so a statement that runs out of
  // time says how the database is doing (load, locks, I/O), not what the rows hold: blaming the
  // rows after a few timeouts would send good rows to the dead-letter queue during a slowdown.
  '57014',
  '55P03', // lock_not_available
  '25006', // read_only_sql_transaction (a failover left us on a standby)
]);

/** errno codes of a connection that could not be made or was lost. */
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'EHOSTDOWN',
  'ENETUNREACH',
  'ENETDOWN',
  'ENOTFOUND',
  'EAI_AGAIN',
]);

/** Messages of `pg` (and pg-pool) errors that carry no SQLSTATE but mean the connection failed. */
const CONNECTION_MESSAGE =
  /connection terminated|connection error|connection timeout|timeout exceeded when trying to connect|not queryable|server closed the connection|connect ECONNREFUSED/i;

function isConnectionFailure(error: unknown, depth = 0): boolean {
  if (depth > 5 || error === null || typeof error !== 'object') return false;
  const { code, message, cause, errors } = error as {
    code?: unknown;
    message?: unknown;
    cause?: unknown;
    errors?: unknown;
  };
  if (typeof code === 'string' && NETWORK_CODES.has(code)) return true;
  if (typeof message === 'string' && CONNECTION_MESSAGE.test(message)) return true;
  if (Array.isArray(errors) && errors.some((e) => isConnectionFailure(e, depth + 1))) return true;
  return isConnectionFailure(cause, depth + 1);
}

/** Classifies a failed write (any error `insertBatch` threw); see WriteFailureKind. */
export function writeFailureKind(error: unknown): WriteFailureKind {
  const storeError = toStoreError(error, 'write');
  if (storeError.code === 'store_data_rejected' || storeError.code === 'store_crashed') {
    return 'data';
  }
  if (storeError.transient || storeError.code === 'store_conflict') return 'outage';
  const state = storeError.sqlState;
  if (state !== undefined) {
    if (['08', '40', '53', '58'].includes(state.slice(0, 2)) || OUTAGE_STATES.has(state)) {
      return 'outage';
    }
    // XX000 (internal error), 42xxx (schema), 24000, …
    return 'unknown';
  }
  return isConnectionFailure(storeError.cause ?? storeError) ? 'outage' : 'unknown';
}

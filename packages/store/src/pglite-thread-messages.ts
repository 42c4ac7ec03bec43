import { StoreError, type StoreErrorCode } from './errors.js';

/** What the client asks the PGlite thread (`tx`: inside that open transaction). */
export type ThreadRequest =
  | { id: number; op: 'query'; text: string; params?: unknown[]; tx?: number; deferrable?: true }
  | { id: number; op: 'exec'; sql: string; tx?: number }
  | { id: number; op: 'begin' }
  | { id: number; op: 'end'; tx: number; commit: boolean }
  | { id: number; op: 'close' };

/** The thread's answer to one request; `healthy` is the database's health after it. */
export type ThreadReply =
  | { id: number; ok: true; rows?: unknown[]; tx?: number; healthy: boolean }
  | { id: number; ok: false; error: WireError; healthy: boolean };

/** Sent by the thread when the database's health changes between replies (a failed reopen). */
export interface ThreadHealth {
  healthy: boolean;
}

/** The thread's first message: its database opened, or why not. */
export type ThreadHello = { ready: true } | { ready: false; error: WireError };

/**
 * An error as it crosses the thread: what the callers classify by (errors.ts: the StoreError's
 * code, a SQLSTATE in `code`, the class name of a WASM trap or a stack overflow) and PostgreSQL's
 * own fields, which a structured clone of an Error would drop.
 */
export interface WireError {
  name: string;
  message: string;
  storeCode?: StoreErrorCode;
  transient?: boolean;
  sqlState?: string;
  fields?: Record<string, string | number>;
  /** The error's cause, one level (for the logs; nothing classifies by it). */
  cause?: WireError;
}

/** PostgreSQL's error fields (pg and PGlite name them alike), kept when an error crosses. */
const PG_FIELDS = [
  'code',
  'severity',
  'detail',
  'hint',
  'position',
  'where',
  'schema',
  'table',
  'column',
  'dataType',
  'constraint',
  'routine',
] as const;

export function toWireError(error: unknown, withCause = true): WireError {
  const cause =
    withCause && error instanceof Error && error.cause !== undefined
      ? { cause: toWireError(error.cause, false) }
      : {};
  if (error instanceof StoreError) {
    return {
      name: error.name,
      message: error.message,
      storeCode: error.code,
      transient: error.transient,
      ...(error.sqlState === undefined ? {} : { sqlState: error.sqlState }),
      ...cause,
    };
  }
  if (!(error instanceof Error)) return { name: 'Error', message: String(error) };
  const fields: Record<string, string | number> = {};
  const source = error as unknown as Record<string, unknown>;
  for (const field of PG_FIELDS) {
    const value = source[field];
    if (typeof value === 'string' || typeof value === 'number') fields[field] = value;
  }
  return { name: error.name, message: error.message, fields, ...cause };
}

export function fromWireError(wire: WireError): Error {
  const cause = wire.cause === undefined ? {} : { cause: fromWireError(wire.cause) };
  if (wire.storeCode !== undefined) {
    return new StoreError(wire.storeCode, wire.message, {
      ...(wire.sqlState === undefined ? {} : { sqlState: wire.sqlState }),
      ...(wire.transient === undefined ? {} : { transient: wire.transient }),
      ...cause,
    });
  }
  // RangeError keeps its class (a stack overflow on a value is the value's fault: errors.ts).
  const error =
    wire.name === 'RangeError'
      ? new RangeError(wire.message, cause)
      : new Error(wire.message, cause);
  if (error.name !== wire.name) error.name = wire.name;
  Object.assign(error, wire.fields);
  return error;
}

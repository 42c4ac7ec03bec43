import { describe, expect, it } from 'vitest';

import { StoreError, toStoreError, writeFailureKind } from './errors.js';

function pgError(code: string, message = 'failed'): Error {
  return Object.assign(new Error(message), { code });
}

function wasmTrap(message: string): Error {
  const error = new Error(message);
  error.name = 'RuntimeError';
  return error;
}

describe('toStoreError', () => {
  it.each([
    ['22P05', 'store_data_rejected'], // untranslatable character / NUL in jsonb
    ['22P02', 'store_data_rejected'], // invalid text representation
    ['23502', 'store_data_rejected'], // not null violation
    ['54001', 'store_data_rejected'], // stack depth limit exceeded
    ['54000', 'store_data_rejected'], // program limit exceeded (jsonb sizes)
    ['08006', 'store_unavailable'],
    ['53300', 'store_unavailable'],
    ['57P01', 'store_unavailable'],
    ['57014', 'store_unavailable'], // the read API answers 503 to a statement timeout
    ['40001', 'store_conflict'],
    ['40P01', 'store_conflict'],
    ['XX000', 'store_failed'],
    ['42P01', 'store_failed'],
  ])('SQLSTATE %s → %s', (state, code) => {
    const error = toStoreError(pgError(state), 'insert');
    expect(error).toMatchObject({ code, sqlState: state, message: 'insert: failed' });
  });

  it('a WASM trap is store_crashed; a JavaScript stack overflow is the data', () => {
    expect(toStoreError(wasmTrap('memory access out of bounds'), 'x').code).toBe('store_crashed');
    expect(toStoreError(new RangeError('Maximum call stack size exceeded'), 'x').code).toBe(
      'store_data_rejected',
    );
    expect(toStoreError(new Error('connect ECONNREFUSED 127.0.0.1:5432'), 'x').code).toBe(
      'store_unavailable',
    );
  });
});

describe('writeFailureKind', () => {
  const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), {
    code: 'ECONNREFUSED',
  });
  it.each<[string, unknown, 'outage' | 'data' | 'unknown']>([
    ['connection refused', refused, 'outage'],
    [
      'connection reset',
      Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }),
      'outage',
    ],
    ['both address families refused', new AggregateError([refused], ''), 'outage'],
    ['pg lost its connection', new Error('Connection terminated unexpectedly'), 'outage'],
    ['pool connect timeout', new Error('timeout exceeded when trying to connect'), 'outage'],
    ['08006 connection failure', pgError('08006'), 'outage'],
    ['53300 too many connections', pgError('53300'), 'outage'],
    ['53100 disk full', pgError('53100'), 'outage'],
    ['57P01 admin shutdown', pgError('57P01'), 'outage'],
    ['57P03 starting up', pgError('57P03'), 'outage'],
    ['40001 serialization failure', pgError('40001'), 'outage'],
    ['40P01 deadlock', pgError('40P01'), 'outage'],
    ['55P03 lock not available', pgError('55P03'), 'outage'],
    ['58030 I/O error', pgError('58030'), 'outage'],
    // A statement timeout is the database's state, never the rows' (they are bounded in size and depth).
    [
      '57014 statement timeout',
      pgError('57014', 'canceling statement due to statement timeout'),
      'outage',
    ],
    ['22P05 NUL in jsonb', pgError('22P05'), 'data'],
    ['22021 bad encoding', pgError('22021'), 'data'],
    ['23502 not null', pgError('23502'), 'data'],
    ['54001 stack depth', pgError('54001'), 'data'],
    ['PGlite trap', wasmTrap('memory access out of bounds'), 'data'],
    ['PGlite trap (unreachable)', wasmTrap('unreachable'), 'data'],
    ['stack overflow serialising', new RangeError('Maximum call stack size exceeded'), 'data'],
    ['XX000 internal error', pgError('XX000'), 'unknown'],
    ['42P01 table missing', pgError('42P01'), 'unknown'],
    ['a bug', new TypeError('x is not a function'), 'unknown'],
  ])('%s → %s', (_name, error, kind) => {
    expect(writeFailureKind(error)).toBe(kind);
    expect(writeFailureKind(toStoreError(error, 'insert telemetry'))).toBe(kind);
  });

  it('an error the driver marks transient is an outage', () => {
    const error = new StoreError('store_unavailable', 'reopening', { transient: true });
    expect(writeFailureKind(error)).toBe('outage');
  });
});

import {
  TelemetryRecordError,
  decodeTelemetryRecord,
  type TelemetryRecord,
} from '@fleetwire/protocol';

/** Why a record went to the dead-letter topic (header `fleetwire-dlq-reason`, metric label). */
export type DeadLetterReason =
  | 'record_too_large'
  | 'record_undecodable'
  | 'record_invalid'
  | 'record_out_of_range'
  | 'record_rejected_by_store';

export interface RecordLimits {
  maxRecordBytes: number;
  /** How far past `now` a receive time may lie (clock skew between edge and ingest). */
  maxFutureSkewMs: number;
  /** Records received before this are older than the retention: they would be dropped anyway. */
  oldestTs: number;
  now: number;
}

export type CheckedRecord =
  { ok: true; record: TelemetryRecord } | { ok: false; reason: DeadLetterReason; message: string };

// NUL cannot be stored in PostgreSQL text or jsonb; lone surrogates cannot be encoded as UTF-8.
const UNSTORABLE = /\0|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

function unstorablePath(value: unknown, path: string): string | undefined {
  if (typeof value === 'string') return UNSTORABLE.test(value) ? path : undefined;
  if (value === null || typeof value !== 'object') return undefined;
  for (const [key, inner] of Object.entries(value)) {
    if (UNSTORABLE.test(key)) return `${path}.${key}`;
    const found = unstorablePath(inner, `${path}.${key}`);
    if (found) return found;
  }
  return undefined;
}

/** Decides whether a record value can be stored, and if not, the dead-letter reason. */
export function checkRecord(value: Buffer | null, limits: RecordLimits): CheckedRecord {
  const size = value?.length ?? 0;
  if (size > limits.maxRecordBytes) {
    return {
      ok: false,
      reason: 'record_too_large',
      message: `${size} bytes, limit ${limits.maxRecordBytes}`,
    };
  }
  let record: TelemetryRecord;
  try {
    record = decodeTelemetryRecord(value);
  } catch (error) {
    if (error instanceof TelemetryRecordError) {
      return { ok: false, reason: error.code, message: error.message };
    }
    throw error;
  }
  const bad = unstorablePath(record, 'record');
  if (bad) {
    return {
      ok: false,
      reason: 'record_invalid',
      message: `${bad.slice('record.'.length)}: NUL or unpaired surrogate`,
    };
  }
  if (record.ts > limits.now + limits.maxFutureSkewMs) {
    return {
      ok: false,
      reason: 'record_out_of_range',
      message: `ts ${record.ts} is in the future`,
    };
  }
  if (record.ts < limits.oldestTs) {
    return {
      ok: false,
      reason: 'record_out_of_range',
      message: `ts ${record.ts} is older than the retention`,
    };
  }
  return { ok: true, record };
}

import {
  TelemetryRecordError,
  decodeTelemetryRecord,
  type TelemetryRecord,
} from '@fleetwire/protocol';
import { DAY_MS, dayStart } from '@fleetwire/store';
import type { LogRecord } from '@fleetwire/telemetry-log';

import type { PendingRow } from './batch-writer.js';
import type { DeadLetter } from './dead-letter.js';

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
  // The decoder bounds the value and refuses strings the store cannot hold (NUL, lone surrogates).
  try {
    record = decodeTelemetryRecord(value);
  } catch (error) {
    if (error instanceof TelemetryRecordError) {
      return { ok: false, reason: error.code, message: error.message };
    }
    // Anything else thrown on a record is about that record: throwing would fail its whole batch
    // again on every retry, and so stop the partition for good.
    return {
      ok: false,
      reason: 'record_invalid',
      message: `cannot be checked: ${(error as Error)?.message ?? String(error)}`,
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

/** The limits a deployment sets; `RecordLimits` are them at one moment. */
export interface RecordPolicy {
  maxRecordBytes: number;
  maxFutureSkewMs: number;
  /** Records received before this many whole days before today are past retention. */
  retentionDays: number;
}

export function limitsAt(now: number, policy: RecordPolicy): RecordLimits {
  return {
    maxRecordBytes: policy.maxRecordBytes,
    maxFutureSkewMs: policy.maxFutureSkewMs,
    oldestTs: dayStart(now) - policy.retentionDays * DAY_MS,
    now,
  };
}

/** Checks each record of a batch: the rows to store, and the dead letters with their reasons. */
export function checkRecords(
  records: readonly LogRecord[],
  limits: RecordLimits,
): { rows: PendingRow[]; letters: DeadLetter[] } {
  const rows: PendingRow[] = [];
  const letters: DeadLetter[] = [];
  for (const source of records) {
    if (source.unreadable !== undefined) {
      // A value the in-process log could not even serialise: set aside, never retried.
      letters.push({ source, reason: 'record_invalid', message: source.unreadable });
      continue;
    }
    const checked = checkRecord(source.value, limits);
    if (!checked.ok) {
      letters.push({ source, reason: checked.reason, message: checked.message });
      continue;
    }
    const { tenant, deviceId, msgId, topic, ts, data } = checked.record;
    rows.push({ row: { tenant, deviceId, msgId, topic, ts, data }, source });
  }
  return { rows, letters };
}

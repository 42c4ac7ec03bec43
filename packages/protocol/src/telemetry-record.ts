import { z } from 'zod';

import { decodeJson } from './codec.js';
import type { DecodeLimits } from './decode-limits.js';
import { firstIssue } from './zod-issue.js';

/**
 * A telemetry message as the edge accepted it: the value of one record on the Kafka `telemetry`
 * topic (key = `${tenant}/${deviceId}`), and one row in the store. `msgId` is the device's
 * message id, or one the edge assigned, so a record replayed after a crash is recognised.
 */
export const TelemetryRecord = z.object({
  v: z.literal(1),
  tenant: z.string().min(1).max(63),
  deviceId: z.string().min(1).max(128),
  msgId: z.string().min(1).max(64),
  topic: z.string().min(1).max(256),
  /**
   * The record's time, ms since the epoch: the device's own `ts` when it gave a plausible one
   * (so a resend is the same record), else the edge's receive time.
   */
  ts: z.number().int().nonnegative(),
  data: z.record(z.string(), z.unknown()),
});
export type TelemetryRecord = z.infer<typeof TelemetryRecord>;

/** A stored record as the read API returns it (the tenant is the caller's). */
export type TelemetryPoint = Pick<TelemetryRecord, 'deviceId' | 'topic' | 'ts' | 'msgId' | 'data'>;

export function telemetryRecordKey(record: Pick<TelemetryRecord, 'tenant' | 'deviceId'>): string {
  return `${record.tenant}/${record.deviceId}`;
}

export function encodeTelemetryRecord(record: TelemetryRecord): Buffer {
  return Buffer.from(JSON.stringify(record));
}

/** Why a record cannot be stored: the dead-letter reason. */
export class TelemetryRecordError extends Error {
  override readonly name = 'TelemetryRecordError';
  constructor(
    readonly code: 'record_undecodable' | 'record_invalid',
    message: string,
  ) {
    super(message);
  }
}

/**
 * Bounds for a value that wraps one accepted frame's data: a record on the telemetry log, a
 * message between edge nodes. Edges accept frames up to 64 levels deep at most (their own limit is
 * lower) and the wrapper adds levels; the other bounds are left to the size limits. Whatever
 * produced such a value, nothing deeper reaches a node's encoder or the store.
 */
export const WRAPPED_DECODE_LIMITS: Readonly<DecodeLimits> = Object.freeze({
  maxDepth: 66,
  maxKeys: 1 << 20,
  maxItems: 1 << 20,
  maxStringBytes: 64 * 1024 * 1024,
});

/** Parses a record's value; throws TelemetryRecordError with the reason. */
export function decodeTelemetryRecord(value: Buffer | Uint8Array | null): TelemetryRecord {
  let json: unknown;
  try {
    json = decodeJson(value ?? new Uint8Array(0), WRAPPED_DECODE_LIMITS);
  } catch (cause) {
    // Not JSON at all, or JSON whose shape or strings the store cannot take.
    const why = (cause as Error).message;
    const undecodable = why === 'not valid JSON' || why === 'text is not valid UTF-8';
    throw new TelemetryRecordError(
      undecodable ? 'record_undecodable' : 'record_invalid',
      undecodable ? 'value is not JSON' : `value refused: ${why}`,
    );
  }
  const parsed = TelemetryRecord.safeParse(json);
  if (!parsed.success) {
    throw new TelemetryRecordError('record_invalid', firstIssue(parsed.error, 'record'));
  }
  return parsed.data;
}

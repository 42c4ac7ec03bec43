import {
  DeviceId,
  HttpError,
  decodeJson,
  parseIsoDateTime,
  singleQueryValue,
  type DecodeLimits,
} from '@fleetwire/protocol';

const FIELD_SEGMENT = /^[A-Za-z0-9_-]{1,64}$/;
const DURATION = /^(\d{1,9})(ms|s|m|h|d)$/;
const UNIT_MS = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/** A cursor is a flat array of a few short values; anything bigger is not one we issued. */
const CURSOR_LIMITS: DecodeLimits = { maxDepth: 1, maxKeys: 0, maxItems: 8, maxStringBytes: 1024 };

export const MIN_BUCKET_MS = 1_000;
/**
 * Without `to`: now, plus the most a device's clock may stamp a record ahead of the edge's (the
 * edge's plausibility window), so what was just stored is in.
 */
export const DEFAULT_TO_AHEAD_MS = 5 * 60_000;
/** Without `from`: a day before `to`. */
export const DEFAULT_SPAN_MS = 24 * 3_600_000;
export const MAX_BUCKET_MS = 31 * 86_400_000;

function invalid(name: string, message: string): HttpError {
  return new HttpError('invalid_parameter', `${name}: ${message}`);
}

/** 9999-12-31T23:59:59.999Z: the last time every layer down to PostgreSQL can hold. */
export const MAX_TIME_MS = 253_402_300_799_999;

/** Reads the query parameters of one request, each checked or refused with invalid_parameter. */
export class Params {
  constructor(private readonly query: URLSearchParams) {}

  private one(name: string): string | null {
    return singleQueryValue(this.query, name);
  }

  optionalString(name: string, maxLength: number): string | undefined {
    const value = this.one(name);
    if (value === null || value === '') return undefined;
    if (value.length > maxLength) throw invalid(name, `longer than ${maxLength} characters`);
    // PostgreSQL text cannot hold U+0000.
    if (value.includes('\u0000')) throw invalid(name, 'must not contain U+0000');
    return value;
  }

  /**
   * ISO 8601 date and time (`2025-01-31T12:00:00Z`, the form devices may use) or milliseconds
   * since the epoch; undefined when absent.
   */
  time(name: string): number | undefined {
    const raw = this.one(name);
    if (raw === null || raw === '') return undefined;
    const ms = /^\d{1,16}$/.test(raw) ? Number(raw) : parseIsoDateTime(raw);
    // PostgreSQL's timestamptz and ISO 8601 stop at year 9999.
    if (ms === undefined || ms < 0 || ms > MAX_TIME_MS) {
      throw invalid(name, 'not a time (ISO 8601 or epoch ms, up to 9999-12-31)');
    }
    return ms;
  }

  /** `[from, to)`; without `to` it ends a little after `now`, without `from` it spans a day. */
  timeRange(now: number): { from: number; to: number } {
    const to = this.time('to') ?? now + DEFAULT_TO_AHEAD_MS;
    const from = this.time('from') ?? Math.max(0, to - DEFAULT_SPAN_MS);
    if (to <= from) throw invalid('to', 'must be after from');
    return { from, to };
  }

  limit(fallback: number, max: number): number {
    const raw = this.one('limit');
    if (raw === null || raw === '') return Math.min(fallback, max);
    if (!/^\d{1,6}$/.test(raw) || Number(raw) < 1 || Number(raw) > max) {
      throw invalid('limit', `an integer from 1 to ${max}`);
    }
    return Number(raw);
  }

  order(): 'asc' | 'desc' {
    const raw = this.one('order') ?? 'asc';
    if (raw !== 'asc' && raw !== 'desc') throw invalid('order', 'asc or desc');
    return raw;
  }

  /** `5m`, `1h`, `30s`, `1d`, `500ms`; at least 1 s, at most 31 d. */
  bucketMs(): number {
    const raw = this.one('bucket');
    if (raw === null || raw === '') throw invalid('bucket', 'required (e.g. 1m, 1h)');
    const match = DURATION.exec(raw);
    if (!match) throw invalid('bucket', 'a duration such as 30s, 5m, 1h or 1d');
    const ms = Number(match[1]) * UNIT_MS[match[2] as keyof typeof UNIT_MS];
    if (ms < MIN_BUCKET_MS || ms > MAX_BUCKET_MS) throw invalid('bucket', 'from 1s to 31d');
    return ms;
  }

  /** `temp` or `env.temp`: the path of a numeric value inside `data`. */
  field(): string[] {
    const raw = this.one('field');
    if (raw === null || raw === '') throw invalid('field', 'required (e.g. temp or env.temp)');
    const path = raw.split('.');
    if (path.length > 8 || !path.every((s) => FIELD_SEGMENT.test(s))) {
      throw invalid('field', 'dot-separated names of letters, digits, _ and - (at most 8)');
    }
    return path;
  }

  deviceIds(max: number): string[] | undefined {
    const ids = this.query.getAll('deviceId').filter((id) => id !== '');
    if (ids.length === 0) return undefined;
    if (ids.length > max) throw invalid('deviceId', `at most ${max}`);
    for (const id of ids) checkDeviceId(id);
    return ids;
  }

  cursor<T>(decode: (value: unknown) => T | undefined): T | undefined {
    const raw = this.one('cursor');
    if (raw === null || raw === '') return undefined;
    let parsed: unknown;
    try {
      parsed = decodeJson(Buffer.from(raw, 'base64url'), CURSOR_LIMITS);
    } catch {
      parsed = undefined;
    }
    const value = decode(parsed);
    if (value === undefined) {
      throw new HttpError('invalid_cursor', 'cursor: not a cursor this route returned');
    }
    return value;
  }
}

/** The request target as a URL; a target no URL can be made of is a bad request. */
export function requestUrl(target: string): URL {
  try {
    return new URL(target, 'http://localhost');
  } catch {
    throw new HttpError('bad_request', 'the request target is not a valid URL path');
  }
}

export function checkDeviceId(id: string): string {
  // Device ids are token subjects: protocol's DeviceId, as for every message's target.
  if (!DeviceId.safeParse(id).success) {
    throw invalid('deviceId', 'letters, digits and _ . : @ - only (1–128 characters)');
  }
  return id;
}

/** Opaque to clients: base64url of a small JSON array. */
export function encodeCursor(parts: readonly (string | number)[]): string {
  return Buffer.from(JSON.stringify(parts)).toString('base64url');
}

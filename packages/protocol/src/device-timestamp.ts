import { ErrorCode } from './codes.js';
import { ProtocolError } from './protocol-error.js';

/**
 * Numbers below this are epoch seconds, others epoch milliseconds: 10^11 s is the year 5138,
 * 10^11 ms is March 1973, so neither reading of a real clock lands on the wrong side.
 */
const SECONDS_BELOW = 1e11;
/** The largest time a JavaScript Date holds (year 275760), in ms. */
const MAX_MS = 8.64e15;

/**
 * ISO 8601 date-time as devices write it: `2025-05-29T12:45:00Z`, with `T` or a space, optional
 * seconds and fraction, and `Z`, `±hh:mm`, `±hhmm`, `±hh` or nothing (UTC) as the offset. A flat
 * pattern with bounded repeats: no backtracking to exploit.
 */
const ISO_8601 =
  /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?(Z|z|[+-]\d{2}(?::?\d{2})?)?$/;

function invalid(why: string, ref: string | undefined): ProtocolError {
  return new ProtocolError(
    ErrorCode.BadMessage,
    `timestamp: ${why} (ISO 8601 like "2025-05-29T12:45:00Z", or epoch seconds or milliseconds)`,
    ref,
  );
}

function offsetMs(zone: string | undefined): number {
  if (zone === undefined || zone === 'Z' || zone === 'z') return 0;
  const sign = zone.startsWith('-') ? -1 : 1;
  const digits = zone.slice(1).replace(':', '');
  const hours = Number(digits.slice(0, 2));
  const minutes = digits.length > 2 ? Number(digits.slice(2, 4)) : 0;
  return sign * (hours * 60 + minutes) * 60_000;
}

/**
 * Milliseconds since the epoch for an ISO 8601 date-time as devices write it (see ISO_8601), or
 * undefined when the text is not one or names a date that does not exist. Strict on purpose:
 * `Date.parse` also reads "5", "March 7" or "foo 2020" as dates.
 */
export function parseIsoDateTime(text: string): number | undefined {
  const parts = ISO_8601.exec(text);
  if (!parts) return undefined;
  const [year, month, day, hour, minute, second] = parts.slice(1, 7).map((p) => Number(p ?? 0)) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  const fraction = parts[7] === undefined ? 0 : Math.floor(Number(`0.${parts[7]}`) * 1000);
  const ms = Date.UTC(year, month - 1, day, hour, minute, second, fraction);
  // Date.UTC rolls 2025-02-30 over into March: a date that does not round-trip does not exist.
  const back = new Date(ms);
  const exists =
    back.getUTCFullYear() === year &&
    back.getUTCMonth() === month - 1 &&
    back.getUTCDate() === day &&
    back.getUTCHours() === hour &&
    back.getUTCMinutes() === minute &&
    back.getUTCSeconds() === second;
  const zone = parts[8];
  if (!exists || Math.abs(offsetMs(zone)) >= 24 * 3_600_000) return undefined;
  return ms - offsetMs(zone);
}

function fromIso(text: string, ref: string | undefined): number {
  if (!ISO_8601.test(text)) throw invalid(`"${text.slice(0, 40)}" is not a date and time`, ref);
  const ms = parseIsoDateTime(text);
  if (ms === undefined) throw invalid(`"${text.slice(0, 40)}" is not a valid date and time`, ref);
  return ms;
}

/**
 * A device's `timestamp` field as ms since the epoch: an ISO 8601 string, or a number of epoch
 * seconds or milliseconds. Throws ProtocolError(bad_message) for anything else, or a time before
 * 1970 or past what a Date holds. Whether the time is believed is the edge's call (see the
 * publisher's plausibility window).
 */
export function parseDeviceTimestamp(value: unknown, ref?: string): number {
  let ms: number;
  if (typeof value === 'number') {
    if (!Number.isFinite(value) || value < 0) throw invalid(`${value} is not a time`, ref);
    ms = value < SECONDS_BELOW ? Math.round(value * 1000) : Math.floor(value);
  } else if (typeof value === 'string') {
    ms = fromIso(value, ref);
  } else {
    throw invalid(`a ${value === null ? 'null' : typeof value} is not a time`, ref);
  }
  if (ms < 0 || ms > MAX_MS) throw invalid('out of range', ref);
  return ms;
}

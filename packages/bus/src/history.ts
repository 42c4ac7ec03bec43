/**
 * History: every message appended through the bus gets a position in its domain (the first level
 * of its topic: the tenant), ordered across all the domain's topics in the order the broker took
 * them. A position is the domain's epoch and an offset `<ms>-<n>` (broker time, then a counter
 * within that millisecond). The epoch changes when the broker lost the domain's history (a
 * Redis restart without persistence): offsets of another epoch say nothing.
 */
export interface Position {
  epoch: string;
  offset: string;
}

/** How long and how much of a topic's history is kept. */
export interface Retention {
  maxAgeMs: number;
  maxCount: number;
  /** The longest maxAgeMs of any topic: how long the domain remembers a topic was active. */
  horizonMs: number;
}

/** One message to append: its qualified topic, its bytes, its topic's retention. */
export interface Appended {
  topic: string;
  payload: Uint8Array;
  retention: Retention;
}

export interface HistoryQuery {
  /** A qualified pattern whose first level (the domain) is concrete: `acme/devices/+/telemetry`. */
  pattern: string;
  after: Position;
  /** The retention age of the topics the pattern can match (the shortest, when they differ). */
  maxAgeMs: number;
  /** More missed messages than this: `too_many`. */
  maxMessages: number;
  /** Missed messages whose payloads hold more bytes than this: `too_many`. */
  maxBytes: number;
  /**
   * More topics matching the pattern active since `after` than this, or more than
   * DOMAIN_SCAN_FACTOR times as many of the domain's (whatever they match): `too_many`.
   */
  maxStreams: number;
}

/**
 * How many times `maxStreams` of a domain's active topics a read looks through for the ones its
 * pattern matches: another publisher's topics do not count until then, and a read costs at most
 * this many times what it did when they all counted (Redis: 100k topic names took ~36 ms to
 * fetch and ~50 ms to match; 20k is ~10 ms).
 */
export const DOMAIN_SCAN_FACTOR = 2;

export interface HistoryEntry {
  topic: string;
  payload: Buffer;
  position: Position;
}

/** Why history cannot say what was missed since a position. */
export type HistoryFailure = 'expired' | 'epoch_changed' | 'too_many';

/**
 * Either every message after the position on the pattern's topics, in position order, or why
 * not. `now` is the broker's clock (ms), `head` the domain's latest position.
 */
export type HistoryRead =
  | { ok: true; entries: HistoryEntry[]; head: Position; now: number }
  | { ok: false; reason: HistoryFailure; head: Position; now: number };

export interface Offset {
  ms: number;
  n: number;
}

const OFFSET = /^(\d{1,15})-(\d{1,15})$/;

export function parseOffset(offset: string): Offset | undefined {
  const match = OFFSET.exec(offset);
  if (!match) return undefined;
  return { ms: Number(match[1]), n: Number(match[2]) };
}

export function formatOffset({ ms, n }: Offset): string {
  return `${ms}-${n}`;
}

/** Negative, zero or positive as `a` is before, at or after `b`. */
export function compareOffsets(a: Offset, b: Offset): number {
  return a.ms === b.ms ? a.n - b.n : a.ms - b.ms;
}

/** The domain of a qualified topic or pattern: its first level. */
export function domainOf(topic: string): string {
  const slash = topic.indexOf('/');
  return slash < 0 ? topic : topic.slice(0, slash);
}

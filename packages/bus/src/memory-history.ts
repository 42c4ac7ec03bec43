import { randomBytes } from 'node:crypto';

import { topicMatches } from '@fleetwire/protocol';

import {
  DOMAIN_SCAN_FACTOR,
  compareOffsets,
  domainOf,
  formatOffset,
  parseOffset,
  type HistoryEntry,
  type HistoryQuery,
  type HistoryRead,
  type Offset,
  type Position,
  type Retention,
} from './history.js';

interface Stored {
  offset: Offset;
  payload: Buffer;
}

interface Stream {
  entries: Stored[];
  /** The newest entry trimmed away, if any: a position before it cannot be recovered. */
  trimmed: Offset | undefined;
  maxAgeMs: number;
  lastMs: number;
}

interface Domain {
  epoch: string;
  clock: Offset;
  streams: Map<string, Stream>;
  horizonMs: number;
}

/** Appends between sweeps of streams nobody appends to any more. */
const SWEEP_EVERY = 1024;

/**
 * The in-memory twin of the Redis history (one per MemoryBusHub): a stream per topic, bounded by
 * age and count the same way, positions from one clock per domain. A restart of the process is
 * the "lost history" case: the next append starts a new epoch.
 */
export class MemoryHistory {
  private readonly domains = new Map<string, Domain>();
  private appends = 0;

  constructor(private readonly now: () => number = Date.now) {}

  append(topic: string, payload: Buffer, retention: Retention): Position {
    const now = this.now();
    const name = domainOf(topic);
    let domain = this.domains.get(name);
    if (!domain) {
      domain = {
        epoch: randomBytes(6).toString('hex'),
        clock: { ms: 0, n: 0 },
        streams: new Map(),
        horizonMs: retention.horizonMs,
      };
      this.domains.set(name, domain);
    }
    domain.horizonMs = retention.horizonMs;
    domain.clock =
      now > domain.clock.ms ? { ms: now, n: 0 } : { ...domain.clock, n: domain.clock.n + 1 };
    let stream = domain.streams.get(topic);
    if (!stream) {
      stream = { entries: [], trimmed: undefined, maxAgeMs: retention.maxAgeMs, lastMs: now };
      domain.streams.set(topic, stream);
    }
    stream.maxAgeMs = retention.maxAgeMs;
    stream.lastMs = now;
    stream.entries.push({ offset: domain.clock, payload });
    const oldest = now - retention.maxAgeMs;
    let drop = Math.max(0, stream.entries.length - retention.maxCount);
    while (drop < stream.entries.length && (stream.entries[drop] as Stored).offset.ms < oldest) {
      drop += 1;
    }
    if (drop > 0) {
      stream.trimmed = (stream.entries[drop - 1] as Stored).offset;
      stream.entries.splice(0, drop);
    }
    if (++this.appends % SWEEP_EVERY === 0) this.sweep(now);
    return { epoch: domain.epoch, offset: formatOffset(domain.clock) };
  }

  read(query: HistoryQuery): HistoryRead {
    const now = this.now();
    const domain = this.domains.get(domainOf(query.pattern));
    const head: Position = domain
      ? { epoch: domain.epoch, offset: formatOffset(domain.clock) }
      : { epoch: '', offset: '0-0' };
    const after = parseOffset(query.after.offset);
    if (!domain || !after || domain.epoch !== query.after.epoch) {
      return { ok: false, reason: 'epoch_changed', head, now };
    }
    if (after.ms < now - query.maxAgeMs) return { ok: false, reason: 'expired', head, now };
    const recent = [...domain.streams].filter(([, s]) => s.lastMs >= after.ms);
    const active = recent.filter(([topic]) => topicMatches(query.pattern, topic));
    if (recent.length > query.maxStreams * DOMAIN_SCAN_FACTOR || active.length > query.maxStreams) {
      return { ok: false, reason: 'too_many', head, now };
    }
    const entries: (HistoryEntry & { at: Offset })[] = [];
    let bytes = 0;
    for (const [topic, stream] of active) {
      if (stream.trimmed && compareOffsets(stream.trimmed, after) > 0) {
        return { ok: false, reason: 'expired', head, now };
      }
      for (const entry of stream.entries) {
        if (compareOffsets(entry.offset, after) <= 0) continue;
        bytes += entry.payload.length;
        if (entries.length === query.maxMessages || bytes > query.maxBytes)
          return { ok: false, reason: 'too_many', head, now };
        entries.push({
          topic,
          payload: entry.payload,
          position: { epoch: domain.epoch, offset: formatOffset(entry.offset) },
          at: entry.offset,
        });
      }
    }
    entries.sort((a, b) => compareOffsets(a.at, b.at));
    return { ok: true, entries: entries.map(({ at: _at, ...entry }) => entry), head, now };
  }

  /** Streams and topics held (tests check the bounds). */
  size(): { streams: number; entries: number } {
    let streams = 0;
    let entries = 0;
    for (const domain of this.domains.values()) {
      streams += domain.streams.size;
      for (const stream of domain.streams.values()) entries += stream.entries.length;
    }
    return { streams, entries };
  }

  /** Streams nobody appended to for their whole age are gone, as Redis expires their keys. */
  private sweep(now: number): void {
    for (const domain of this.domains.values()) {
      for (const [topic, stream] of domain.streams) {
        if (stream.lastMs < now - stream.maxAgeMs) domain.streams.delete(topic);
      }
    }
  }
}

import { expect, it } from 'vitest';

import type { Bus } from './bus.js';
import type { BusPair } from './bus-contract.js';
import { compareOffsets, parseOffset, type Position, type Retention } from './history.js';

const KEEP: Retention = { maxAgeMs: 60_000, maxCount: 100, horizonMs: 60_000 };
const text = (s: string): Uint8Array => Buffer.from(s);

/** Collects appended deliveries of a bus with their positions. */
function positioned(bus: Bus): { topic: string; text: string; position?: Position }[] {
  const seen: { topic: string; text: string; position?: Position }[] = [];
  bus.onTopicMessage((topic, payload, position) =>
    seen.push({ topic, text: payload.toString(), ...(position ? { position } : {}) }),
  );
  return seen;
}

async function until(check: () => boolean): Promise<void> {
  while (!check()) await new Promise((resolve) => setImmediate(resolve));
}

async function one(bus: Bus, topic: string, payload: Uint8Array, retention: Retention) {
  const [position] = await bus.append([{ topic, payload, retention }]);
  return position as Position;
}

/** A read with bounds no test here comes near. */
function readAll(bus: Bus, pattern: string, after: Position) {
  return bus.readHistory({
    pattern,
    after,
    maxAgeMs: 60_000,
    maxMessages: 1000,
    maxBytes: 1_000_000,
    maxStreams: 1000,
  });
}

const offsetOf = (p: Position) => parseOffset(p.offset) as { ms: number; n: number };

/** History: part of the Bus contract, run by busContract for every driver. */
export function historyContract(nodes: () => BusPair, domain: () => string): void {
  it('append: positions grow across the topics of a domain and every matching node, itself included, gets each message with its position, in order', async () => {
    const { a, b } = nodes();
    const d = domain();
    const [inA, inB] = [positioned(a), positioned(b)];
    await a.addPattern(`${d}/devices/#`);
    await b.addPattern(`${d}/devices/+/telemetry`);
    const positions: Position[] = [];
    for (let i = 0; i < 30; i += 5) {
      // Batches of five, across three topics.
      const batch = [0, 1, 2, 3, 4].map((k) => ({
        topic: `${d}/devices/d${(i + k) % 3}/telemetry`,
        payload: text(String(i + k)),
        retention: KEEP,
      }));
      positions.push(...(await a.append(batch)));
    }
    for (let i = 1; i < positions.length; i++) {
      expect(positions[i]?.epoch).toBe(positions[0]?.epoch);
      expect(compareOffsets(offsetOf(positions[i]!), offsetOf(positions[i - 1]!))).toBeGreaterThan(
        0,
      );
    }
    await until(() => inA.length === 30 && inB.length === 30);
    for (const seen of [inA, inB]) {
      expect(seen.map((m) => m.text)).toEqual([...Array(30).keys()].map(String));
      expect(seen.map((m) => m.position)).toEqual(positions);
    }
  });

  it('sync: when it resolves, every message appended before it (by any node) has reached this node', async () => {
    const { a, b } = nodes();
    const d = domain();
    const inB = positioned(b);
    await b.addPattern(`${d}/devices/#`);
    for (let i = 0; i < 200; i += 20) {
      const batch = [...Array(20).keys()].map((k) => ({
        topic: `${d}/devices/d${k % 4}/telemetry`,
        payload: text(String(i + k)),
        retention: KEEP,
      }));
      await a.append(batch);
    }
    await b.sync();
    // No waiting here: sync is the wait.
    expect(inB.map((m) => m.text)).toEqual([...Array(200).keys()].map(String));
  });

  it('readHistory: exactly what came after a position, on the pattern’s topics only, in position order', async () => {
    const { a, b } = nodes();
    const d = domain();
    const first = await one(a, `${d}/devices/d1/telemetry`, text('before'), KEEP);
    const expected: string[] = [];
    for (let i = 0; i < 20; i++) {
      const topic = i % 2 ? `${d}/devices/d1/telemetry` : `${d}/devices/d2/telemetry`;
      await one(i % 3 ? a : b, topic, text(`m${i}`), KEEP);
      expected.push(`m${i}`);
      await one(b, `${d}/devices/d1/status`, text(`s${i}`), KEEP);
    }
    await one(a, `other-${d}/devices/d1/telemetry`, text('other domain'), KEEP);
    const read = await readAll(b, `${d}/devices/+/telemetry`, first);
    if (!read.ok) throw new Error(`not recovered: ${read.reason}`);
    expect(read.entries.map((e) => e.payload.toString())).toEqual(expected);
    expect(read.head.epoch).toBe(first.epoch);
    const exact = await readAll(a, `${d}/devices/d1/telemetry`, first);
    if (!exact.ok) throw new Error(`not recovered: ${exact.reason}`);
    expect(exact.entries.map((e) => e.payload.toString())).toEqual(
      expected.filter((_, i) => i % 2),
    );
    expect(exact.entries.every((e) => e.topic === `${d}/devices/d1/telemetry`)).toBe(true);
    // Nothing after the last position.
    const last = exact.entries.at(-1)!.position;
    const none = await readAll(a, `${d}/devices/d1/telemetry`, last);
    expect(none).toMatchObject({ ok: true, entries: [] });
  });

  it('readHistory finds every topic of one large batch (600 topics, one append)', async () => {
    const { a, b } = nodes();
    const d = domain();
    const first = await one(a, `${d}/devices/d0/telemetry`, text('before'), KEEP);
    const batch = [...Array(600).keys()].map((k) => ({
      topic: `${d}/devices/d${k}/telemetry`,
      payload: text(`m${k}`),
      retention: KEEP,
    }));
    await a.append(batch);
    const read = await readAll(b, `${d}/devices/+/telemetry`, first);
    if (!read.ok) throw new Error(`not recovered: ${read.reason}`);
    expect(read.entries.map((e) => e.payload.toString())).toEqual(
      batch.map((m) => m.payload.toString()),
    );
  });

  it('readHistory says what it cannot recover: trimmed by count, older than the age, another epoch, too many', async () => {
    const { a } = nodes();
    const d = domain();
    const small: Retention = { maxAgeMs: 60_000, maxCount: 5, horizonMs: 60_000 };
    const topic = `${d}/rooms/r1`;
    const query = (
      after: Position,
      more: Partial<{ maxMessages: number; maxStreams: number; maxBytes: number }> = {},
    ) =>
      a.readHistory({
        pattern: `${d}/rooms/#`,
        after,
        maxAgeMs: 60_000,
        maxMessages: 100,
        maxBytes: 1_000_000,
        maxStreams: 100,
        ...more,
      });
    const start = await one(a, topic, text('0'), small);
    for (let i = 1; i <= 4; i++) await one(a, topic, text(String(i)), small);
    expect(await query(start)).toMatchObject({ ok: true });
    for (let i = 5; i <= 9; i++) await one(a, topic, text(String(i)), small);
    expect(await query(start)).toMatchObject({ ok: false, reason: 'expired' });

    const recent = await one(a, topic, text('10'), small);
    const old = { epoch: recent.epoch, offset: `${offsetOf(recent).ms - 120_000}-0` };
    expect(await query(old)).toMatchObject({ ok: false, reason: 'expired' });
    expect(await query({ epoch: 'elsewhere', offset: recent.offset })).toMatchObject({
      ok: false,
      reason: 'epoch_changed',
      head: { epoch: recent.epoch },
    });
    expect(
      await a.readHistory({
        pattern: `never-${d}/#`,
        after: recent,
        maxAgeMs: 60_000,
        maxMessages: 10,
        maxBytes: 1_000_000,
        maxStreams: 10,
      }),
    ).toMatchObject({ ok: false, reason: 'epoch_changed' });

    for (let i = 0; i < 3; i++) await one(a, `${d}/rooms/x${i}`, text('x'), small);
    expect(await query(recent, { maxMessages: 2 })).toMatchObject({
      ok: false,
      reason: 'too_many',
    });
    expect(await query(recent, { maxStreams: 2 })).toMatchObject({ ok: false, reason: 'too_many' });
    expect(await query(recent, { maxMessages: 3, maxStreams: 4 })).toMatchObject({ ok: true });
    // Topics the pattern does not match count only past DOMAIN_SCAN_FACTOR (2) times maxStreams:
    // 4 of rooms/# and 10 others are fine for 10 streams, 4 and 20 others too many.
    for (let i = 0; i < 10; i++) await one(a, `${d}/noise/n${i}`, text('n'), small);
    expect(await query(recent, { maxMessages: 3, maxStreams: 10 })).toMatchObject({ ok: true });
    for (let i = 10; i < 20; i++) await one(a, `${d}/noise/n${i}`, text('n'), small);
    expect(await query(recent, { maxMessages: 3, maxStreams: 10 })).toMatchObject({
      ok: false,
      reason: 'too_many',
    });
    // Three one-byte payloads since `recent`: over two bytes is too many.
    expect(await query(recent, { maxBytes: 2 })).toMatchObject({ ok: false, reason: 'too_many' });
    expect(await query(recent, { maxBytes: 3 })).toMatchObject({ ok: true });
  });

  it('readHistory of a long stream: every entry in order, the bounds exact at any length', async () => {
    const { a } = nodes();
    const d = domain();
    const many: Retention = { maxAgeMs: 60_000, maxCount: 1_000, horizonMs: 60_000 };
    const topic = `${d}/long/l1`;
    const start = await one(a, topic, text('start'), many);
    // Lengths around the Redis driver's page of 64: one short of two pages, two, one past.
    const sent: string[] = [];
    const read = (maxMessages: number, maxBytes = 1_000_000) =>
      a.readHistory({
        pattern: `${d}/long/#`,
        after: start,
        maxAgeMs: 60_000,
        maxMessages,
        maxBytes,
        maxStreams: 10,
      });
    for (const length of [127, 128, 129]) {
      const batch = [];
      for (let i = sent.length; i < length; i++) {
        sent.push(String(i).padStart(3, '0'));
        batch.push({ topic, payload: text(sent[i] as string), retention: many });
      }
      await a.append(batch);
      const all = await read(length);
      expect(all.ok && all.entries.map((e) => Buffer.from(e.payload).toString())).toEqual(sent);
      expect(await read(length - 1)).toMatchObject({ ok: false, reason: 'too_many' });
      // Three bytes each: the byte bound holds at the last entry too.
      expect(await read(length, 3 * length)).toMatchObject({ ok: true });
      expect(await read(length, 3 * length - 1)).toMatchObject({ ok: false, reason: 'too_many' });
    }
  });
}

import { decodeTelemetryRecord, type TelemetryRecord } from '@fleetwire/protocol';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import type { LogBatch, LogRecord, TelemetryLogReader } from './log-reader.js';
import { record } from './telemetry-log-contract.js';
import type { TelemetryLog } from './telemetry-log.js';

export interface ReaderUnderTest {
  /** Appends records as the edge does. */
  log: TelemetryLog;
  /** A new reader of the log; all readers of one subject share their committed positions. */
  reader(): TelemetryLogReader;
  /** Stops every reader still running and closes the log. */
  close(): Promise<void>;
}

/** What a handler saw, so a test can await the n-th record without polling. */
class Seen {
  readonly records: LogRecord[] = [];
  readonly batches: LogBatch[] = [];
  private waiters: (() => void)[] = [];

  add(batch: LogBatch): void {
    this.batches.push(batch);
    this.records.push(...batch.records);
    for (const wake of this.waiters.splice(0)) wake();
  }

  async until(count: number): Promise<void> {
    while (this.records.length < count) {
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
  }
}

function aborted(signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) resolve();
    else signal.addEventListener('abort', () => resolve(), { once: true });
  });
}

function settled<T>(): { promise: Promise<T>; resolve: (value: T) => void } {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

const msgIdOf = (r: LogRecord): string => decodeTelemetryRecord(r.value).msgId;

/** A reader that commits every batch it gets; what it saw. */
async function committingReader(reader: TelemetryLogReader): Promise<Seen> {
  const seen = new Seen();
  await reader.start({
    batch: async (batch) => {
      seen.add(batch);
      await reader.commit(batch.next);
    },
  });
  return seen;
}

async function appendAll(log: TelemetryLog, records: TelemetryRecord[]): Promise<void> {
  await Promise.all(records.map((r) => log.append(r)));
}

/**
 * What every TelemetryLogReader driver must do: Kafka (integration) and the in-process twin
 * (unit). Reading is at least once: what is not committed is delivered again.
 */
export function logReaderContract(name: string, open: () => Promise<ReaderUnderTest>): void {
  describe(`TelemetryLogReader contract: ${name}`, () => {
    let subject: ReaderUnderTest;
    beforeEach(async () => {
      subject = await open();
    });
    afterEach(async () => {
      await subject.close();
    });

    it('delivers every record once when each batch is committed, in order per partition, with its position', async () => {
      const reader = subject.reader();
      const seen = await committingReader(reader);
      const appended = Array.from({ length: 300 }, (_, n) => record(`d${n % 4}`, n));
      await appendAll(subject.log, appended);
      await seen.until(300);

      expect(seen.records.map(msgIdOf).sort()).toEqual(appended.map((r) => r.msgId).sort());
      for (const batch of seen.batches) {
        const offsets = batch.records.map((r) => BigInt(r.offset));
        expect(batch.records.every((r) => r.partition === batch.partition)).toBe(true);
        expect(batch.records.every((r) => r.topic === batch.topic)).toBe(true);
        expect(batch.next).toEqual({
          topic: batch.topic,
          partition: batch.partition,
          offset: String(offsets.at(-1)! + 1n),
        });
        expect(BigInt(batch.highWatermark)).toBeGreaterThanOrEqual(offsets.at(-1)! + 1n);
      }
      // Per partition the offsets run without a gap or a repeat, and each device keeps its order.
      for (const partition of new Set(seen.records.map((r) => r.partition))) {
        const offsets = seen.records.filter((r) => r.partition === partition).map((r) => r.offset);
        const first = BigInt(offsets[0]!);
        expect(offsets).toEqual(offsets.map((_, i) => String(first + BigInt(i))));
      }
      for (const device of ['d0', 'd1', 'd2', 'd3']) {
        const mine = seen.records.filter((r) => decodeTelemetryRecord(r.value).deviceId === device);
        expect(mine.map((r) => decodeTelemetryRecord(r.value).data['n'])).toEqual(
          appended.filter((r) => r.deviceId === device).map((r) => r.data['n']),
        );
        expect(mine.every((r) => r.key?.toString() === `acme/${device}`)).toBe(true);
      }
      await reader.stop();
    });

    it('is ready once started and not after it stopped', async () => {
      const reader = subject.reader();
      expect(reader.ready).toBe(false);
      await reader.start({ batch: async () => undefined });
      expect(reader.ready).toBe(true);
      await reader.stop();
      expect(reader.ready).toBe(false);
    });

    it('a new reader resumes after the committed position; records not committed come again', async () => {
      const a = subject.reader();
      const reached = settled<LogBatch>();
      let target: bigint | undefined;
      await a.start({
        batch: async (batch) => {
          target ??= BigInt(batch.records[0]!.offset) + 4n;
          const end = BigInt(batch.next.offset);
          if (end < target) return a.commit(batch.next);
          await a.commit({ ...batch.next, offset: String(target) });
          reached.resolve(batch);
          // Working on the rest when the process dies: nothing more is committed.
          await aborted(batch.signal);
        },
      });
      await appendAll(
        subject.log,
        Array.from({ length: 10 }, (_, n) => record('r', n)),
      );
      const inHand = await reached.promise;
      a.abort();
      await a.stop();
      expect(inHand.signal.aborted).toBe(true);

      const b = subject.reader();
      const seen = await committingReader(b);
      await seen.until(6);
      expect(seen.records[0]!.offset).toBe(String(target));
      expect(seen.records.map(msgIdOf)).toEqual(['r-4', 'r-5', 'r-6', 'r-7', 'r-8', 'r-9']);
      await b.stop();
    });

    it('stop waits for the batch in hand and its commit', async () => {
      const a = subject.reader();
      const started = settled<void>();
      const gate = settled<void>();
      await a.start({
        batch: async (batch) => {
          started.resolve();
          await gate.promise;
          await a.commit(batch.next);
        },
      });
      await appendAll(subject.log, [record('s', 0), record('s', 1), record('s', 2)]);
      await started.promise;
      let stopped = false;
      const stopping = a.stop().then(() => (stopped = true));
      await new Promise((resolve) => setImmediate(resolve));
      expect(stopped).toBe(false);
      gate.resolve();
      await stopping;

      const b = subject.reader();
      const seen = await committingReader(b);
      await subject.log.append(record('s', 3));
      await seen.until(1);
      expect(seen.records.map(msgIdOf)).toEqual(['s-3']);
      await b.stop();
    });

    it('abort bounds a stop: the batch in hand is revoked, its commit refused, its records come again', async () => {
      const a = subject.reader();
      const inHand = settled<LogBatch>();
      const commitAfterAbort = settled<unknown>();
      await a.start({
        batch: async (batch) => {
          inHand.resolve(batch);
          await aborted(batch.signal);
          commitAfterAbort.resolve(
            await a.commit(batch.next).then(
              () => 'committed',
              (error: unknown) => error,
            ),
          );
        },
      });
      await appendAll(subject.log, [record('h', 0), record('h', 1)]);
      const batch = await inHand.promise;
      const stopping = a.stop();
      const before = performance.now();
      a.abort();
      await stopping;
      expect(performance.now() - before).toBeLessThan(5_000);
      expect(batch.signal.aborted).toBe(true);
      expect(await commitAfterAbort.promise).toMatchObject({ code: 'LOG_COMMIT_REFUSED' });

      const b = subject.reader();
      const seen = await committingReader(b);
      await seen.until(2);
      expect(seen.records.map(msgIdOf)).toEqual(['h-0', 'h-1']);
      await b.stop();
    });
  });
}

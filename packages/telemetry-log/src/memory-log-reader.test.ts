import { describe, expect, it } from 'vitest';

import type { LogBatch, TelemetryLogReader } from './log-reader.js';
import { logReaderContract } from './log-reader-contract.js';
import { MemoryLogReader } from './memory-log-reader.js';
import { MemoryTelemetryLog } from './memory-telemetry-log.js';
import { record } from './telemetry-log-contract.js';

logReaderContract('memory', async () => {
  const log = new MemoryTelemetryLog();
  const readers: TelemetryLogReader[] = [];
  return {
    log,
    reader: () => {
      const reader = new MemoryLogReader(log, { maxBatch: 50, retryDelayMs: 5 });
      readers.push(reader);
      return reader;
    },
    close: async () => {
      for (const reader of readers) reader.abort();
      await Promise.all(readers.map((r) => r.stop().catch(() => undefined)));
      await log.close();
    },
  };
});

/** Batches as a handler got them, each resolved by the test. */
function heldBatches(reader: MemoryLogReader) {
  const batches: { batch: LogBatch; finish: (commit: boolean) => void }[] = [];
  const waiting: (() => void)[] = [];
  const start = () =>
    reader.start({
      batch: (batch) =>
        new Promise<void>((resolve, reject) => {
          batches.push({
            batch,
            finish: (commit) =>
              commit ? reader.commit(batch.next).then(resolve, reject) : resolve(),
          });
          for (const wake of waiting.splice(0)) wake();
        }),
    });
  const nth = async (n: number) => {
    while (batches.length < n) await new Promise<void>((resolve) => waiting.push(resolve));
    return batches[n - 1]!;
  };
  return { start, nth };
}

describe('MemoryLogReader', () => {
  it('hands over whatever piled up during a batch as the next one; a commit releases the log', async () => {
    const log = new MemoryTelemetryLog();
    const reader = new MemoryLogReader(log, { topic: 'embedded', maxBatch: 3 });
    const { start, nth } = heldBatches(reader);
    await log.append(record('d', 0));
    await start();
    const first = await nth(1);
    expect(first.batch.records.map((r) => r.offset)).toEqual(['0']);
    expect(first.batch.records[0]).toMatchObject({ topic: 'embedded', partition: 0 });
    for (let n = 1; n <= 4; n++) await log.append(record('d', n));
    first.finish(true);
    const second = await nth(2);
    expect(reader.position).toBe(1);
    expect(log.held).toBe(4);
    expect(second.batch.records.map((r) => r.offset)).toEqual(['1', '2', '3']);
    expect(second.batch.highWatermark).toBe('5');
    second.finish(true);
    (await nth(3)).finish(true);
    await log.close();
    await reader.stop();
    expect(reader.position).toBe(5);
    expect(log.held).toBe(0);
  });

  it('passed(offset) resolves once a commit passed it, and rejects when the reader is aborted first', async () => {
    const log = new MemoryTelemetryLog();
    const reader = new MemoryLogReader(log);
    const { start, nth } = heldBatches(reader);
    await start();
    await log.append(record('d', 0));
    await log.append(record('d', 1));
    const zero = reader.passed(0);
    const first = await nth(1);
    await log.append(record('d', 2));
    const two = reader.passed(2);
    first.finish(true);
    await zero;
    await nth(2);
    reader.abort();
    await expect(two).rejects.toMatchObject({ code: 'LOG_READER_STOPPED' });
    await expect(reader.passed(5)).rejects.toMatchObject({ code: 'LOG_READER_STOPPED' });
    await expect(reader.passed(0)).resolves.toBeUndefined();
    expect(reader.ready).toBe(false);
  });

  it('stop delivers what the log still holds; a drain its handler does not commit rejects', async () => {
    const log = new MemoryTelemetryLog();
    const reader = new MemoryLogReader(log, { maxBatch: 2 });
    const { start, nth } = heldBatches(reader);
    for (let n = 0; n < 3; n++) await log.append(record('d', n));
    await start();
    await log.close();
    const stopping = reader.stop();
    (await nth(1)).finish(true);
    const last = await nth(2);
    expect(last.batch.records.map((r) => r.offset)).toEqual(['2']);
    last.finish(false);
    await expect(stopping).rejects.toMatchObject({
      code: 'LOG_READER_STOPPED',
      message: 'stopped with 1 records not handled',
    });
    expect(reader.position).toBe(2);
  });

  it('delivers a batch again after a failed handler, and an object JSON cannot hold as unreadable', async () => {
    const log = new MemoryTelemetryLog();
    const reader = new MemoryLogReader(log, { retryDelayMs: 1 });
    const circular: Record<string, unknown> = {};
    circular['self'] = circular;
    await log.append(record('d', 0));
    await log.append({ ...record('d', 1), data: circular });
    const tries: LogBatch[] = [];
    const done = new Promise<void>((resolve) => {
      void reader.start({
        batch: async (batch) => {
          tries.push(batch);
          if (tries.length === 1) throw new Error('the dead-letter file is not writable');
          await reader.commit(batch.next);
          resolve();
        },
      });
    });
    await done;
    expect(tries).toHaveLength(2);
    expect(tries[1]!.records).toEqual(tries[0]!.records);
    expect(tries[1]!.records[0]!.key?.toString()).toBe('acme/d');
    expect(tries[1]!.records[1]).toMatchObject({
      offset: '1',
      key: null,
      value: null,
      unreadable: expect.stringMatching(/^cannot be encoded: .*circular/i),
    });
    reader.abort();
    await reader.stop();
  });
});

import { createRegistry } from '@fleetwire/metrics';
import type { TelemetryRecord } from '@fleetwire/protocol';
import { MemoryLogReader, MemoryTelemetryLog } from '@fleetwire/telemetry-log';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';

import type { PendingRow, WriterStatus } from './batch-writer.js';
import type { DeadLetter } from './dead-letter.js';
import { IngestMetrics } from './metrics.js';
import { IngestPipeline, type IngestPipelineDeps } from './pipeline.js';

function record(msgId: string, data: Record<string, unknown> = { t: 1 }): TelemetryRecord {
  return {
    v: 1,
    tenant: 'acme',
    deviceId: 'd1',
    msgId,
    topic: 'devices/d1/telemetry',
    ts: Date.now(),
    data,
  };
}

/** What happened, in order: dead letters sent, writes started and finished. */
type Event = `letters:${string}` | `write:${string}` | `wrote:${string}`;

/** A pipeline over the in-process log whose writes finish when the test says so. */
function setup(
  options: { failLetters?: number; status?: () => WriterStatus; hang?: boolean } = {},
) {
  const log = new MemoryTelemetryLog();
  const reader = new MemoryLogReader(log, { topic: 't', maxBatch: 100, retryDelayMs: 1 });
  const metrics = new IngestMetrics(createRegistry({ service: 'ingest', node: 'pipeline-test' }));
  const events: Event[] = [];
  const letters: DeadLetter[] = [];
  const writes: { rows: PendingRow[]; finish: () => void }[] = [];
  const waiting: (() => void)[] = [];
  let failLetters = options.failLetters ?? 0;
  let stopped = 0;
  const writer: IngestPipelineDeps['writer'] = {
    write: (rows) =>
      new Promise<void>((resolve) => {
        const ids = rows.map((r) => r.row.msgId).join(',');
        events.push(`write:${ids}`);
        writes.push({
          rows,
          finish: () => {
            events.push(`wrote:${ids}`);
            resolve();
          },
        });
        for (const wake of waiting.splice(0)) wake();
      }),
    ...(options.status ? { status: options.status } : {}),
    stop: () => void (stopped += 1),
  };
  const pipeline = new IngestPipeline({
    reader,
    writer,
    deadLetters: {
      send: async (sent) => {
        if (failLetters > 0) {
          failLetters -= 1;
          throw new Error('the dead-letter sink is unavailable');
        }
        events.push(`letters:${sent.map((l) => l.source.offset).join(',')}`);
        letters.push(...sent);
      },
    },
    metrics,
    logger: pino({ level: 'silent' }),
    policy: { maxRecordBytes: 1024, maxFutureSkewMs: 60_000, retentionDays: 30 },
    maxRows: 100,
    maxWaitMs: 60_000,
  });
  const write = async (n: number) => {
    while (writes.length < n) await new Promise<void>((resolve) => waiting.push(resolve));
    return writes[n - 1]!;
  };
  const metric = async (name: string, labels: Record<string, string> = {}) => {
    const values = (await metrics.registry.getSingleMetric(name)?.get())?.values ?? [];
    return values
      .filter((v) => Object.entries(labels).every(([k, l]) => v.labels[k] === l))
      .reduce((sum, v) => sum + v.value, 0);
  };
  return { log, reader, pipeline, events, letters, write, metric, stopped: () => stopped };
}

describe('IngestPipeline', () => {
  it('dead-letters refused records first, writes the rows, and commits only after the write', async () => {
    const { log, reader, pipeline, events, letters, write, metric } = setup();
    await log.append(record('good-1'));
    await log.append(record('nul', { note: 'a\u0000b' }));
    await log.append(record('big', { blob: 'x'.repeat(2000) }));
    await log.append(record('good-2'));
    await pipeline.start();
    expect(await metric('fleetwire_ingest_assigned_partitions')).toBe(1);
    expect(await metric('fleetwire_ingest_rebalances_total')).toBe(1);
    expect(pipeline.assignment).toEqual(new Set(['t|0']));

    const first = await write(1);
    expect(first.rows.map((r) => r.source)).toMatchObject([
      { topic: 't', partition: 0, offset: '0' },
      { topic: 't', partition: 0, offset: '3' },
    ]);
    expect(reader.position).toBe(0);
    expect(await metric('fleetwire_ingest_offset_commits_total')).toBe(0);
    await log.append(record('good-3'));
    first.finish();
    (await write(2)).finish();
    await log.close();
    expect(await pipeline.stop(5_000, 1_000)).toBe(true);

    expect(events).toEqual([
      'letters:1,2',
      'write:good-1,good-2',
      'wrote:good-1,good-2',
      'write:good-3',
      'wrote:good-3',
    ]);
    expect(letters.map((l) => [l.source.offset, l.reason, l.message])).toEqual([
      ['1', 'record_invalid', 'value refused: data.note: strings must not contain U+0000'],
      ['2', 'record_too_large', expect.stringMatching(/^\d+ bytes, limit 1024$/)],
    ]);
    expect(reader.position).toBe(5);
    expect(await metric('fleetwire_ingest_dlq_records_total', { reason: 'record_invalid' })).toBe(
      1,
    );
    expect(await metric('fleetwire_ingest_dlq_records_total')).toBe(2);
    expect(await metric('fleetwire_ingest_records_consumed_total')).toBe(5);
    expect(await metric('fleetwire_ingest_offset_commits_total', { outcome: 'ok' })).toBe(2);
    expect(await metric('fleetwire_ingest_consumer_lag', { topic: 't', partition: '0' })).toBe(0);
    expect(await metric('fleetwire_ingest_assigned_partitions')).toBe(0);
  });

  it('a dead-letter sink that fails leaves the batch uncommitted; it is read again and then stored', async () => {
    const { log, reader, pipeline, events, write, metric } = setup({ failLetters: 1 });
    await log.append(record('bad', { note: 'a\u0000b' }));
    await log.append(record('good'));
    await pipeline.start();
    (await write(1)).finish();
    await log.close();
    expect(await pipeline.stop(5_000, 1_000)).toBe(true);
    // The rows were not written before the letters were sent, nor twice.
    expect(events).toEqual(['letters:0', 'write:good', 'wrote:good']);
    expect(reader.position).toBe(2);
    expect(await metric('fleetwire_ingest_dlq_records_total')).toBe(1);
  });

  it('stop is bounded: past its deadline the writer is stopped, the batch left uncommitted', async () => {
    const { log, reader, pipeline, write, metric, stopped } = setup();
    await log.append(record('m1'));
    await pipeline.start();
    await write(1); // never finishes
    await log.close();
    const before = performance.now();
    expect(await pipeline.stop(50, 1_000)).toBe(false);
    expect(performance.now() - before).toBeLessThan(1_000);
    expect(stopped()).toBe(1);
    expect(reader.position).toBe(0);
    expect(reader.ready).toBe(false);
    await expect(reader.passed(0)).rejects.toMatchObject({ code: 'LOG_READER_STOPPED' });
    expect(await metric('fleetwire_ingest_offset_commits_total')).toBe(0);
  });

  it('is ready while the reader runs and the writer is not stuck; a stuck writer gives the reason', async () => {
    let status: WriterStatus = { stuck: false, pendingMs: 0, failures: 0 };
    const { pipeline } = setup({ status: () => status });
    expect(pipeline.readiness()).toEqual({ ready: false, reader: false, writer: true });
    await pipeline.start();
    expect(pipeline.readiness()).toEqual({ ready: true, reader: true, writer: true });
    status = { stuck: true, pendingMs: 42_400, failures: 17 };
    expect(pipeline.readiness()).toEqual({
      ready: false,
      reader: true,
      writer: false,
      reason: 'writer stuck for 42 s (17 failed attempts)',
    });
    pipeline.abort();
  });
});

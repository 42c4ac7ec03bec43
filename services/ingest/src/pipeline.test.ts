import { createRegistry } from '@fleetwire/metrics';
import type { TelemetryRecord } from '@fleetwire/protocol';
import { MemoryLogReader, MemoryTelemetryLog } from '@fleetwire/telemetry-log';
import { waitFor } from '@fleetwire/testkit';
import { pino, type Logger } from 'pino';
import { describe, expect, it } from 'vitest';

import type { PendingRow, WriterStatus } from './batch-writer.js';
import type { DeadLetter } from './dead-letter.js';
import { IngestMetrics } from './metrics.js';
import { IngestPipeline, type IngestPipelineDeps } from './pipeline.js';
import { captureLogger } from './test-support.js';

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
  options: {
    failLetters?: number;
    status?: () => WriterStatus;
    hang?: boolean;
    logger?: Logger;
    stuckAfterMs?: number;
    failureLogIntervalMs?: number;
  } = {},
) {
  const log = new MemoryTelemetryLog();
  const reader = new MemoryLogReader(log, { topic: 't', maxBatch: 100, retryDelayMs: 1 });
  const metrics = new IngestMetrics(createRegistry({ service: 'ingest', node: 'pipeline-test' }));
  const events: Event[] = [];
  const letters: DeadLetter[] = [];
  const writes: { rows: PendingRow[]; finish: () => void }[] = [];
  const waiting: (() => void)[] = [];
  let failLetters = options.failLetters ?? 0;
  let letterSends = 0;
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
        letterSends += 1;
        if (failLetters > 0) {
          failLetters -= 1;
          throw new Error('the dead-letter sink is unavailable');
        }
        events.push(`letters:${sent.map((l) => l.source.offset).join(',')}`);
        letters.push(...sent);
      },
    },
    metrics,
    logger: options.logger ?? pino({ level: 'silent' }),
    policy: { maxRecordBytes: 1024, maxFutureSkewMs: 60_000, retentionDays: 30 },
    maxRows: 100,
    maxWaitMs: 60_000,
    retryBaseMs: 1,
    retryMaxMs: 5,
    ...(options.stuckAfterMs === undefined ? {} : { stuckAfterMs: options.stuckAfterMs }),
    ...(options.failureLogIntervalMs === undefined
      ? {}
      : { failureLogIntervalMs: options.failureLogIntervalMs }),
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
  return {
    log,
    reader,
    pipeline,
    events,
    letters,
    write,
    metric,
    stopped: () => stopped,
    letterSends: () => letterSends,
    /** From now on the dead-letter sink fails `n` more sends. */
    failLetters: (n: number) => void (failLetters = n),
  };
}

function until(what: string, check: () => boolean | Promise<boolean>): Promise<number> {
  return waitFor(what, check, 5_000);
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

  it('a dead-letter sink that fails leaves the batch uncommitted and its rows unwritten until the letters are sent', async () => {
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

  it('a dead-letter sink failing past the stuck bound: not ready with the reason, logged once per interval with a count; ready again once it works', async () => {
    const { logger, lines } = captureLogger();
    const { log, reader, pipeline, write, metric, letterSends, failLetters } = setup({
      failLetters: Infinity,
      logger,
      stuckAfterMs: 300,
      failureLogIntervalMs: 100,
    });
    await log.append(record('bad', { note: 'a\u0000b' }));
    await log.append(record('good'));
    await pipeline.start();
    await until('a failed send', () => letterSends() >= 2);
    expect(pipeline.readiness()).toEqual({ ready: true, reader: true, writer: true });
    await until('not ready', () => !pipeline.readiness().ready);
    expect(pipeline.readiness()).toEqual({
      ready: false,
      reader: true,
      writer: false,
      reason: expect.stringMatching(/^dead-letter sink failing for 0 s \(\d+ failed attempts\)$/),
    });
    expect(await metric('fleetwire_ingest_writer_stuck')).toBe(1);
    await until('a report with a count', () =>
      lines.some((l) => String(l['msg']).startsWith('dead-letter send still failing')),
    );
    const failing = lines.filter((l) => String(l['msg']).startsWith('dead-letter send'));
    expect(failing[0]).toMatchObject({
      msg: 'dead-letter send failed; retrying',
      code: 'dlq_unavailable',
      letters: 1,
      failures: 1,
    });
    expect(failing[1]).toMatchObject({
      msg: expect.stringMatching(
        /^dead-letter send still failing \(\d+ failures since the last report\); retrying$/,
      ),
      failures: expect.any(Number),
    });
    expect(failing.length).toBeLessThan(letterSends() / 2);
    await until('the stuck report', () =>
      lines.some((l) => String(l['msg']).startsWith('dead-letter sink stuck')),
    );
    expect(lines.filter((l) => String(l['msg']).startsWith('dead-letter sink stuck'))).toHaveLength(
      1,
    );
    expect(await metric('fleetwire_ingest_dlq_send_errors_total')).toBeGreaterThanOrEqual(2);
    expect(reader.position).toBe(0);

    failLetters(0);
    (await write(1)).finish();
    await until('committed', () => reader.position === 2);
    expect(pipeline.readiness()).toEqual({ ready: true, reader: true, writer: true });
    expect(await metric('fleetwire_ingest_writer_stuck')).toBe(0);
    expect(await metric('fleetwire_ingest_dlq_records_total')).toBe(1);
    expect(lines.map((l) => l['msg'])).toEqual(
      expect.arrayContaining([
        'dead-letter send succeeded again',
        'dead-letter sink no longer stuck',
      ]),
    );
    await log.close();
    expect(await pipeline.stop(5_000, 1_000)).toBe(true);
  });

  it('stop is bounded while the dead-letter sink fails: nothing written, nothing committed', async () => {
    const { log, reader, pipeline, events, metric, letterSends, stopped } = setup({
      failLetters: Infinity,
    });
    await log.append(record('bad', { note: 'a\u0000b' }));
    await log.append(record('good'));
    await pipeline.start();
    await until('a failed send', () => letterSends() >= 1);
    await log.close();
    const before = performance.now();
    expect(await pipeline.stop(100, 1_000)).toBe(false);
    expect(performance.now() - before).toBeLessThan(1_000);
    expect(stopped()).toBe(1);
    expect(events).toEqual([]);
    expect(reader.position).toBe(0);
    expect(await metric('fleetwire_ingest_offset_commits_total')).toBe(0);
    await expect(reader.passed(0)).rejects.toMatchObject({ code: 'LOG_READER_STOPPED' });
  });
});

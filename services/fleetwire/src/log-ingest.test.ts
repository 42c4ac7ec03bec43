import { IngestMetrics, type DeadLetter, type PendingRow } from '@fleetwire/ingest';
import { createRegistry } from '@fleetwire/metrics';
import type { TelemetryRecord } from '@fleetwire/protocol';
import { MemoryTelemetryLog } from '@fleetwire/telemetry-log';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';

import { EMBEDDED_LOG_TOPIC, LogIngest } from './log-ingest.js';
import { StoredTelemetrySink } from './stored-telemetry-sink.js';

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

/** A writer whose writes finish when the test says so. */
function controlledWriter() {
  const calls: { rows: PendingRow[]; finish: () => void }[] = [];
  const waiting: ((n: number) => void)[] = [];
  return {
    calls,
    /** Resolves once the n-th write (1-based) has started. */
    started: (n: number) =>
      calls.length >= n
        ? Promise.resolve()
        : new Promise<void>((resolve) => waiting.push((m) => m >= n && resolve())),
    writer: {
      write: (rows: PendingRow[]) =>
        new Promise<void>((finish) => {
          calls.push({ rows, finish });
          for (const wake of waiting) wake(calls.length);
        }),
    },
  };
}

function ingestOf(log: MemoryTelemetryLog, writer: { write(rows: PendingRow[]): Promise<void> }) {
  const letters: DeadLetter[] = [];
  const ingest = new LogIngest({
    log,
    writer,
    dlq: { send: async (sent: readonly DeadLetter[]) => void letters.push(...sent) },
    metrics: new IngestMetrics(createRegistry({ service: 'fleetwire', node: 'test' })),
    logger: pino({ level: 'silent' }),
    maxRows: 100,
    maxRecordBytes: 1024,
    maxFutureSkewMs: 60_000,
    retentionDays: 30,
  });
  return { ingest, letters };
}

describe('LogIngest', () => {
  it('moves the offset past a batch only after its write, and batches what piled up meanwhile', async () => {
    const log = new MemoryTelemetryLog();
    const { calls, started, writer } = controlledWriter();
    const { ingest } = ingestOf(log, writer);
    await log.append(record('m1'));
    await log.append(record('m2'));
    ingest.start();
    await started(1);
    expect(calls[0]!.rows.map((r) => r.row.msgId)).toEqual(['m1', 'm2']);
    expect(calls[0]!.rows[1]!.source).toMatchObject({
      topic: EMBEDDED_LOG_TOPIC,
      partition: 0,
      offset: '1',
    });
    await log.append(record('m3'));
    await log.append(record('m4'));
    expect(ingest.position).toBe(0);

    calls[0]!.finish();
    await started(2);
    expect(ingest.position).toBe(2);
    expect(calls[1]!.rows.map((r) => r.row.msgId)).toEqual(['m3', 'm4']);

    // drain waits for the write in hand and for everything still in the log.
    await log.append(record('m5'));
    const drained = ingest.drain();
    calls[1]!.finish();
    await started(3);
    expect(calls[2]!.rows.map((r) => r.row.msgId)).toEqual(['m5']);
    calls[2]!.finish();
    await drained;
    expect(ingest.position).toBe(5);
    expect(calls).toHaveLength(3);
  });

  it('sets aside records the store cannot keep, as the ingest worker does, and moves on', async () => {
    const log = new MemoryTelemetryLog();
    const written: string[] = [];
    const { ingest, letters } = ingestOf(log, {
      write: async (rows) => void written.push(...rows.map((r) => r.row.msgId)),
    });
    await log.append(record('good-1'));
    await log.append(record('nul', { note: 'a\u0000b' }));
    await log.append(record('big', { blob: 'x'.repeat(2000) }));
    await log.append(record('good-2'));
    ingest.start();
    await log.close();
    await ingest.drain();
    expect(written).toEqual(['good-1', 'good-2']);
    expect(letters.map((l) => [l.source.offset, l.reason, l.message])).toEqual([
      ['1', 'record_invalid', 'value refused: data.note: strings must not contain U+0000'],
      ['2', 'record_too_large', expect.stringMatching(/^\d+ bytes, limit 1024$/)],
    ]);
    expect(ingest.position).toBe(4);
  });
});

describe('StoredTelemetrySink (the embedded ack)', () => {
  it('resolves an append only once its record was written, and flush once all are', async () => {
    const log = new MemoryTelemetryLog();
    const { calls, started, writer } = controlledWriter();
    const { ingest } = ingestOf(log, writer);
    const sink = new StoredTelemetrySink(log, ingest);
    ingest.start();
    let acked = false;
    const append = sink.append(record('a')).then(() => (acked = true));
    await started(1);
    // Written to the log, handed to the writer, not yet durable: no ack.
    await new Promise((resolve) => setImmediate(resolve));
    expect(acked).toBe(false);
    calls[0]?.finish();
    await append;
    expect(ingest.position).toBe(1);
    const second = sink.append(record('b'));
    const flushed = sink.flush();
    await started(2);
    calls[1]?.finish();
    await Promise.all([second, flushed]);
    expect(ingest.position).toBe(2);
    await log.close();
    await ingest.drain();
  });
});

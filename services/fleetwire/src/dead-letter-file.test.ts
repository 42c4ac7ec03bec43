import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { BatchWriter, IngestMetrics, type WriterStore } from '@fleetwire/ingest';
import { createRegistry } from '@fleetwire/metrics';
import type { TelemetryRecord } from '@fleetwire/protocol';
import {
  StoreError,
  TelemetryStore,
  createPgliteClient,
  migrate,
  type SqlClient,
} from '@fleetwire/store';
import { MemoryTelemetryLog } from '@fleetwire/telemetry-log';
import { waitFor } from '@fleetwire/testkit';
import { pino } from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

import { FileDeadLetterSink } from './dead-letter-file.js';
import { LogIngest } from './log-ingest.js';
import { StoredTelemetrySink } from './stored-telemetry-sink.js';

let client: SqlClient;
let store: TelemetryStore;
let dir: string | undefined;
beforeAll(async () => {
  client = await createPgliteClient();
  await migrate(client);
  store = new TelemetryStore(client);
});
afterAll(() => client?.close());
afterEach(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

function record(msgId: string, data: Record<string, unknown> = { t: 1 }): TelemetryRecord {
  return {
    v: 1,
    tenant: 'dlq-file',
    deviceId: 'd1',
    msgId,
    topic: 'devices/d1/telemetry',
    ts: Date.now() - 60_000,
    data,
  };
}

function until(what: string, check: () => boolean): Promise<number> {
  return waitFor(what, check, 10_000);
}

/**
 * The embedded ingest as EmbeddedFleetwire wires it, with a dead-letter file that cannot be
 * written: its path is a directory (EISDIR), as a full disk or lost permissions would fail it.
 */
function brokenFile(writerStore: WriterStore = store) {
  dir = mkdtempSync(join(tmpdir(), 'fleetwire-dlq-'));
  const file = join(dir, 'dead-letters.jsonl');
  mkdirSync(file);
  const lines: Record<string, unknown>[] = [];
  const logger = pino(
    { level: 'info' },
    { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) },
  );
  const metrics = new IngestMetrics(createRegistry({ service: 'fleetwire', node: 'test' }));
  const dlq = new FileDeadLetterSink(file);
  const log = new MemoryTelemetryLog();
  const stuck = { stuckAfterMs: 300, failureLogIntervalMs: 100 };
  const writer = new BatchWriter({ store: writerStore, dlq, metrics, logger, ...stuck });
  const ingest = new LogIngest({
    log,
    writer,
    dlq,
    metrics,
    logger,
    maxRows: 100,
    maxRecordBytes: 1024,
    maxFutureSkewMs: 60_000,
    retentionDays: 30,
    ...stuck,
  });
  const sink = new StoredTelemetrySink(log, ingest, client);
  const repair = () => rmSync(file, { recursive: true, force: true });
  const written = () =>
    readFileSync(file, 'utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as Record<string, unknown>);
  const acked = (r: TelemetryRecord) =>
    sink.append(r).then(
      () => 'acked',
      (error: unknown) => error,
    );
  return { ingest, sink, lines, repair, written, acked };
}

describe('the embedded dead-letter file failing (disk full, permissions)', () => {
  it('a record the check refuses: past the stuck bound not ready with the reason, logged once per interval; acked once the file works again', async () => {
    const { ingest, sink, lines, repair, written, acked } = brokenFile();
    ingest.start();
    let settled = false;
    const bad = acked(record('nul', { note: 'a\u0000b' })).finally(() => (settled = true));
    const good = acked(record('good'));
    await until('not ready', () => !sink.ready);
    expect(sink.notReadyBecause).toMatch(
      /^dead-letter sink failing for \d+ s \(\d+ failed attempts\)$/,
    );
    await until('a report with a count', () =>
      lines.some((l) => String(l['msg']).startsWith('dead-letter send still failing')),
    );
    const failing = lines.filter((l) => String(l['msg']).startsWith('dead-letter send'));
    expect(failing[0]).toMatchObject({
      msg: 'dead-letter send failed; retrying',
      code: 'dlq_unavailable',
      err: { code: 'EISDIR' },
    });
    await until('the stuck report', () =>
      lines.some((l) => String(l['msg']).startsWith('dead-letter sink stuck')),
    );
    expect(lines.filter((l) => String(l['msg']).startsWith('dead-letter sink stuck'))).toHaveLength(
      1,
    );
    // Neither acked nor nacked meanwhile: the record was not set aside yet.
    expect(settled).toBe(false);
    expect(ingest.position).toBe(0);

    repair();
    expect(await bad).toBe('acked');
    expect(await good).toBe('acked');
    expect(written()).toMatchObject([{ reason: 'record_invalid', offset: '0' }]);
    expect(sink.ready).toBe(true);
    expect(lines.map((l) => l['msg'])).toContain('dead-letter send succeeded again');
  });

  it('a row the store refuses: the writer, retrying its dead letter, turns stuck and not ready too', async () => {
    const refusing: WriterStore = {
      insertBatch: async (rows) => {
        if (rows.some((r) => r.msgId === 'poison')) {
          throw new StoreError('store_data_rejected', 'insert telemetry: refused', {
            sqlState: '22P05',
          });
        }
        return store.insertBatch(rows);
      },
      probeWrite: () => store.probeWrite(),
    };
    const { ingest, sink, repair, written, acked } = brokenFile(refusing);
    ingest.start();
    const poison = acked(record('poison'));
    await until('not ready', () => !sink.ready);
    expect(sink.notReadyBecause).toMatch(/^writer stuck for \d+ s \(\d+ failed attempts\)$/);
    repair();
    expect(await poison).toBe('acked');
    expect(written()).toMatchObject([{ reason: 'record_rejected_by_store', offset: '0' }]);
    expect(sink.ready).toBe(true);
  });

  it('stop stays bounded while the file fails: the append is refused, never acked', async () => {
    const { ingest, sink, acked } = brokenFile();
    ingest.start();
    const bad = acked(record('nul', { note: 'a\u0000b' }));
    await until('not ready', () => !sink.ready);
    const before = performance.now();
    expect(await ingest.stop(200)).toBe(false);
    expect(performance.now() - before).toBeLessThan(1_500);
    expect(await bad).toMatchObject({ code: 'LOG_READER_STOPPED' });
    expect(ingest.position).toBe(0);
    await sink.flush();
  });
});

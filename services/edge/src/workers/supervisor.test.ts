import { Writable } from 'node:stream';
import { Worker } from 'node:worker_threads';

import { MemoryBusHub } from '@fleetwire/bus';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';

import { loadEdgeConfig } from '../config.js';
import { startWorkers } from './supervisor.js';
import type { WorkerData } from './worker-messages.js';

/**
 * A stand-in for worker-main (the supervisor is what is under test): says it listens, ends when
 * told to drain or close, and worker `crashes` throws once it listens.
 */
const BODY = `
const { parentPort, workerData } = require('node:worker_threads');
workerData.fabric.close();
parentPort.on('message', (m) => {
  if (m.k === 'drain' || m.k === 'close') parentPort.close();
});
parentPort.postMessage({ k: 'listening', port: workerData.config.port });
if (workerData.index === workerData.crashes) setImmediate(() => { throw new Error('boom'); });
`;

function setUp(crashes: number) {
  const config = loadEdgeConfig(
    {
      FLEETWIRE_HOST: '127.0.0.1',
      FLEETWIRE_PORT: '0',
      FLEETWIRE_JWT_HS256_SECRET: 'x'.repeat(40),
      FLEETWIRE_REDIS_URL: 'redis://127.0.0.1:1',
      FLEETWIRE_WORKERS: '3',
      FLEETWIRE_MAX_CONNECTIONS: '1000',
    },
    'sup',
  );
  const lines: Record<string, unknown>[] = [];
  const logger = pino(
    { level: 'info' },
    new Writable({
      write(chunk: Buffer, _encoding, done) {
        for (const line of chunk.toString().split('\n')) if (line) lines.push(JSON.parse(line));
        done();
      },
    }),
  );
  const threads: { data: WorkerData; exited: Promise<number> }[] = [];
  let exitCode: (code: number) => void = () => undefined;
  const exited = new Promise<number>((resolve) => (exitCode = resolve));
  const started = startWorkers(config, {
    logger,
    bus: new MemoryBusHub().connect('sup-process'),
    startThread: (data) => {
      const thread = new Worker(BODY, {
        eval: true,
        workerData: { ...data, crashes },
        transferList: [data.fabric],
      });
      threads.push({ data, exited: new Promise((resolve) => thread.once('exit', resolve)) });
      return thread;
    },
    exit: exitCode,
  });
  started.catch(() => undefined);
  return { started, exited, threads, lines };
}

describe('startWorkers', () => {
  it('gives each worker its node id and share, all on one port; stop drains every worker', async () => {
    const { started, threads, exited } = setUp(-1);
    const workers = await started;
    expect(workers.port).toBeGreaterThan(0);
    expect(threads.map((t) => t.data.config.nodeId)).toEqual(['sup-w0', 'sup-w1', 'sup-w2']);
    expect(new Set(threads.map((t) => t.data.config.port))).toEqual(new Set([workers.port]));
    expect(threads.map((t) => t.data.config.limits.maxConnections)).toEqual([334, 334, 334]);
    expect(new Set(threads.map((t) => t.data.busNodeId)).size).toBe(3);
    await workers.stop();
    expect(await Promise.all(threads.map((t) => t.exited))).toEqual([0, 0, 0]);
    // Nobody died: the process is not taken down.
    const notExited = await Promise.race([exited.then(() => 'exited'), Promise.resolve('running')]);
    expect(notExited).toBe('running');
  });

  it('a worker that dies closes the others and exits the process with 1', async () => {
    const { exited, threads, lines } = setUp(1);
    expect(await exited).toBe(1);
    const codes = await Promise.all(threads.map((t) => t.exited));
    expect(codes[1]).toBe(1);
    // The survivors were told to close, and did.
    expect([codes[0], codes[2]]).toEqual([0, 0]);
    const fatal = lines.find((line) => line['level'] === 60);
    expect(fatal).toMatchObject({ worker: 1 });
  });
});

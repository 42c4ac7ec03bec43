import { createServer } from 'node:net';
import { Worker } from 'node:worker_threads';

import { LocalFabric, RedisClusterBus, type Bus } from '@fleetwire/bus';
import { Registry } from '@fleetwire/metrics';
import type { Logger } from 'pino';

import type { EdgeConfig } from '../config.js';
import { registerInterestMetrics } from '../interest-metrics.js';
import { aggregateWorkerMetrics, type WorkerMetrics } from './metrics-aggregate.js';
import type { FromWorker, ToWorker, WorkerData } from './worker-messages.js';

/** How long one worker may take to hand over its metrics before `/metrics` answers 500. */
const METRICS_TIMEOUT_MS = 5_000;
/** How long the surviving workers get to close when one died, before the process exits anyway. */
const CLOSE_AFTER_DEATH_MS = 5_000;

export interface WorkersOptions {
  logger: Logger;
  /** The process's bus driver (Redis): config refuses workers without one. */
  bus?: Bus;
  /** Starts one worker thread; default: worker-main (tests give another body). */
  startThread?: (data: WorkerData) => Worker;
  /** Ends the process when a worker died; default: process.exit. */
  exit?: (code: number) => void;
}

/** The running workers of this process. */
export interface Workers {
  port: number;
  /** Drains every worker (each over the drain window); resolves once all have exited. */
  stop(): Promise<void>;
}

interface Running {
  index: number;
  thread: Worker;
  exited: Promise<number>;
}

/**
 * An edge process of FLEETWIRE_WORKERS worker threads, each its own uWS app listening on the
 * same port (uSockets sets SO_REUSEPORT, so the kernel spreads new connections between them),
 * each a node of the cluster with its own node id. This thread holds the process's bus behind a
 * LocalFabric (siblings reach each other in-process, other processes through Redis once per
 * process), answers the workers' requests for the summed metrics, drains every worker on
 * SIGTERM, and takes the process down (exit 1) when a worker dies.
 */
export async function startWorkers(config: EdgeConfig, options: WorkersOptions): Promise<Workers> {
  const { logger, bus, startThread = startWorkerThread } = options;
  const exit = options.exit ?? ((code: number) => process.exit(code));
  if (!bus) throw new Error('FLEETWIRE_WORKERS above 1 needs a Redis or Redis Cluster bus');
  const fabric = new LocalFabric(bus);
  // SO_REUSEPORT is set only on a given port: with port 0 each worker would get its own.
  const port = config.port === 0 ? await freeTcpPort(config.host) : config.port;
  let stopping = false;
  let failing = false;

  const workers: Running[] = [];
  const metricsRequests = new Map<number, (metrics: WorkerMetrics) => void>();
  let metricsId = 0;
  const send = (worker: Running, message: ToWorker): void => worker.thread.postMessage(message);
  // What this thread measures itself: the bus it holds for every worker.
  const own = new Registry();
  own.setDefaultLabels({ service: 'edge', node: config.nodeId });
  if (bus instanceof RedisClusterBus) registerInterestMetrics(own, () => bus.stats());

  const collect = async (): Promise<string> => {
    const perWorker = await Promise.all(
      workers.map(
        (worker) =>
          new Promise<WorkerMetrics>((resolve, reject) => {
            metricsId += 1;
            const id = metricsId;
            const timer = setTimeout(() => {
              metricsRequests.delete(id);
              reject(new Error(`worker ${worker.index} did not hand over its metrics`));
            }, METRICS_TIMEOUT_MS);
            metricsRequests.set(id, (metrics) => {
              clearTimeout(timer);
              resolve(metrics);
            });
            send(worker, { k: 'metrics', id });
          }),
      ),
    );
    return aggregateWorkerMetrics(perWorker, await own.getMetricsAsJSON());
  };

  const died = (worker: Running, reason: { code?: number; err?: unknown }): void => {
    if (failing) return;
    failing = true;
    logger.fatal(
      { worker: worker.index, ...reason },
      'a worker died: closing the others and exiting (no half-node)',
    );
    for (const other of workers) if (other !== worker) send(other, { k: 'close' });
    const closed = Promise.all(workers.map((w) => w.exited));
    const timeout = new Promise((resolve) => setTimeout(resolve, CLOSE_AFTER_DEATH_MS).unref());
    void Promise.race([closed, timeout]).finally(() => {
      fabric.close();
      void bus.close().finally(() => exit(1));
    });
  };

  const listening: Promise<number>[] = [];
  for (let index = 0; index < config.workers; index += 1) {
    const fabricPort = fabric.attach();
    const data: WorkerData = {
      index,
      config: workerConfig(config, index, port),
      metricsNode: config.nodeId,
      busNodeId: `${fabric.nodeId}-w${index}`,
      fabric: fabricPort,
    };
    const thread = startThread(data);
    let started: (port: number) => void = () => undefined;
    let failed: (error: unknown) => void = () => undefined;
    listening.push(
      new Promise<number>((resolve, reject) => {
        started = resolve;
        failed = reject;
      }),
    );
    const worker: Running = {
      index,
      thread,
      exited: new Promise((resolve) => thread.once('exit', resolve)),
    };
    workers.push(worker);
    thread.on('message', (message: FromWorker) => {
      switch (message.k) {
        case 'listening':
          started(message.port);
          return;
        case 'metrics':
          metricsRequests.get(message.id)?.(message.metrics);
          metricsRequests.delete(message.id);
          return;
        case 'collect':
          collect().then(
            (text) => send(worker, { k: 'collected', id: message.id, text }),
            (error: unknown) =>
              send(worker, { k: 'collected', id: message.id, error: String(error) }),
          );
          return;
      }
    });
    thread.on('error', (err) => {
      failed(err);
      died(worker, { err });
    });
    void worker.exited.then((code) => {
      failed(new Error(`worker ${index} exited with ${code} before listening`));
      if (!stopping || code !== 0) died(worker, { code });
    });
  }

  try {
    await Promise.all(listening);
  } catch (error) {
    // A worker that could not start (keys, Kafka, the port) fails the start as main.ts would,
    // the same line on stderr; died() closes the other workers and exits 1.
    const err = error as Error & { code?: string };
    process.stderr.write(
      `${JSON.stringify({ level: 'fatal', service: 'edge', code: err.code, msg: err.message })}\n`,
    );
    await new Promise<never>(() => undefined);
  }
  return {
    port,
    stop: async () => {
      stopping = true;
      for (const worker of workers) send(worker, { k: 'drain' });
      await Promise.all(workers.map((worker) => worker.exited));
      fabric.close();
      await bus.close();
    },
  };
}

/**
 * A worker's share of the process: its own node id, the shared port, and the per-process limits
 * divided (the open-files limit and the database are the process's, whatever the threads).
 */
export function workerConfig(config: EdgeConfig, index: number, port: number): EdgeConfig {
  const share = (total: number): number => Math.max(1, Math.ceil(total / config.workers));
  return {
    ...config,
    port,
    nodeId: `${config.nodeId}-w${index}`,
    workers: 1,
    limits: { ...config.limits, maxConnections: share(config.limits.maxConnections) },
    ...(config.database
      ? { database: { ...config.database, poolSize: share(config.database.poolSize) } }
      : {}),
    ...(config.kafka
      ? { kafka: { ...config.kafka, maxBuffered: share(config.kafka.maxBuffered) } }
      : {}),
  };
}

/**
 * The worker thread of worker-main: built (dist/*.js), or from source (src/*.ts, the dev and
 * test runs), where tsx's loader hooks must be registered in the thread itself first.
 */
function startWorkerThread(data: WorkerData): Worker {
  const options = { workerData: data, transferList: [data.fabric] };
  if (!import.meta.url.endsWith('.ts')) {
    return new Worker(new URL('./worker-main.js', import.meta.url), options);
  }
  const entry = new URL('./worker-main.ts', import.meta.url).href;
  const tsx = import.meta.resolve('tsx/esm/api');
  const source = `import(${JSON.stringify(tsx)}).then((api) => { api.register(); return import(${JSON.stringify(entry)}); });`;
  return new Worker(source, { ...options, eval: true });
}

function freeTcpPort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, host, () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

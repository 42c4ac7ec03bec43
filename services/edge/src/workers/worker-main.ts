import { parentPort, workerData } from 'node:worker_threads';

import { FabricBus } from '@fleetwire/bus';
import { pino } from 'pino';

import { startEdgeNode } from '../edge-node.js';
import { loadUws } from '../uws.js';
import type { FromWorker, ToWorker, WorkerData } from './worker-messages.js';

/**
 * One worker thread of an edge process (FLEETWIRE_WORKERS > 1): an edge node on the shared port,
 * its bus the process's LocalFabric, steered by the supervisor (supervisor.ts). The config was
 * read once, by the main thread.
 */
async function main(): Promise<void> {
  const control = parentPort;
  if (!control) throw new Error('worker-main.ts runs only as a worker thread');
  const data = workerData as WorkerData;
  const { config } = data;
  const logger = pino({
    level: config.logLevel,
    base: { service: 'edge', node: config.nodeId, worker: data.index },
  });
  const { uws } = loadUws({ allowFallback: config.allowUwsFallback });
  const bus = await FabricBus.connect(data.fabric, data.busNodeId);

  // `/metrics` on this worker answers for the whole process: the supervisor asks every worker.
  const collections = new Map<
    number,
    { resolve: (text: string) => void; reject: (e: Error) => void }
  >();
  let collectionId = 0;
  const post = (message: FromWorker): void => control.postMessage(message);
  const metricsText = (): Promise<string> =>
    new Promise((resolve, reject) => {
      collectionId += 1;
      collections.set(collectionId, { resolve, reject });
      post({ k: 'collect', id: collectionId });
    });

  const node = await startEdgeNode(config, {
    uws,
    logger,
    bus,
    metricsNode: data.metricsNode,
    metricsText,
  });
  const stop = (immediately: boolean): void => {
    // Once the server and its adapters are closed nothing keeps this thread's loop alive but
    // this port: closing it lets the thread end by itself, exit code 0.
    void node.stop({ immediately }).finally(() => control.close());
  };
  control.on('message', (message: ToWorker) => {
    switch (message.k) {
      case 'metrics':
        void node.metrics.registry
          .getMetricsAsJSON()
          .then((metrics) => post({ k: 'metrics', id: message.id, metrics }));
        return;
      case 'collected': {
        const waiter = collections.get(message.id);
        collections.delete(message.id);
        if (message.text !== undefined) waiter?.resolve(message.text);
        else waiter?.reject(new Error(message.error ?? 'metrics not collected'));
        return;
      }
      case 'drain':
        stop(false);
        return;
      case 'close':
        stop(true);
        return;
    }
  });
  post({ k: 'listening', port: node.port });
}

// A failure here reaches the supervisor as the worker's 'error' event: it stops the process.
await main();

import type { MessagePort } from 'node:worker_threads';

import type { EdgeConfig } from '../config.js';
import type { WorkerMetrics } from './metrics-aggregate.js';

/** What the supervisor gives each worker thread at its start. */
export interface WorkerData {
  index: number;
  /** This worker's config: its node id, its share of the per-process limits, the shared port. */
  config: EdgeConfig;
  /** The `node` label of the metrics: the process's node id, the same for every worker. */
  metricsNode: string;
  /** The worker's bus id (a node of its own for presence and commands). */
  busNodeId: string;
  /** Its end of the LocalFabric (transferred). */
  fabric: MessagePort;
}

/** Supervisor → worker, on the worker's parentPort. */
export type ToWorker =
  | { k: 'drain' }
  | { k: 'close' }
  | { k: 'metrics'; id: number }
  | { k: 'collected'; id: number; text?: string; error?: string };

/** Worker → supervisor. */
export type FromWorker =
  | { k: 'listening'; port: number }
  | { k: 'metrics'; id: number; metrics: WorkerMetrics }
  | { k: 'collect'; id: number };

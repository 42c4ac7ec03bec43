/** The messages between the benchmark and its client processes (client-worker.ts). */
import type { ProtocolName } from './protocols.js';

interface Endpoint {
  protocol: ProtocolName;
  host: string;
  port: number;
  /** Source address of this process's sockets. */
  localAddress: string;
  role: 'device' | 'dashboard';
  /** Subscribe to this after the session is ready. */
  topic?: string;
}

export type Task =
  | (Endpoint & {
      kind: 'connect';
      count: number;
      concurrency: number;
      /** Subjects are `${subPrefix}-${i}`, unique across processes. */
      subPrefix: string;
      /** Report `delivered` once this many deliveries arrived. */
      expect?: number;
      /** Keep the publish→deliver latency of each delivery (from the data's `t`). */
      latency?: boolean;
    })
  | (Endpoint & {
      kind: 'publish';
      sub: string;
      topic: string;
      messages: number;
      /** Absent: as fast as the socket takes them. */
      ratePerSec?: number;
    })
  | (Endpoint & {
      /** Fleetwire devices sending telemetry with ids, each answered (ack/nack) once durable. */
      kind: 'telemetry';
      devices: number;
      subPrefix: string;
      ratePerSec: number;
      seconds: number;
    });

export type WorkerReport =
  | { kind: 'connected'; ok: number; failed: number; startedAt: number; endedAt: number }
  | { kind: 'delivered'; delivered: number; lastAt: number }
  | { kind: 'stats'; delivered: number; lastAt: number; latencies: number[] }
  | { kind: 'published'; startedAt: number; endedAt: number }
  | {
      kind: 'answered';
      sent: number;
      acked: number;
      nacked: number;
      /** From the first send to the last answer. */
      elapsedMs: number;
    }
  | { kind: 'closed' }
  | { kind: 'error'; message: string };

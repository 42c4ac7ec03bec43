import type { TelemetryPoint } from '@fleetwire/protocol';

// What the telemetry store takes and answers: rows, pages, query shapes.

export type { TelemetryPoint };

/** One telemetry message to keep (a TelemetryRecord of @fleetwire/protocol fits). */
export interface TelemetryRow {
  tenant: string;
  deviceId: string;
  msgId: string;
  topic: string;
  /** Receive time, ms since the epoch. */
  ts: number;
  data: Record<string, unknown>;
}

/** A page of results; `next` is the keyset to pass as `after` for the following page. */
export interface Page<T, K> {
  items: T[];
  next?: K;
}

export interface PointKey {
  ts: number;
  msgId: string;
}

export interface RangeQuery {
  tenant: string;
  deviceId: string;
  /** Inclusive, ms. */
  from: number;
  /** Exclusive, ms. */
  to: number;
  limit: number;
  order?: 'asc' | 'desc';
  topic?: string;
  after?: PointKey;
}

export interface LatestKey {
  deviceId: string;
  topic: string;
}

export interface LatestQuery {
  tenant: string;
  /** Only these devices; all of the tenant's when absent. */
  deviceIds?: string[];
  limit: number;
  after?: LatestKey;
}

export interface BucketQuery {
  tenant: string;
  deviceId: string;
  from: number;
  to: number;
  bucketMs: number;
  /** Path of a numeric value inside `data`: ["temp"], ["env", "temp"]. */
  field: string[];
  topic?: string;
}

/** One time bucket of a series: statistics of the numeric values in [start, start + bucket). */
export interface Bucket {
  start: number;
  count: number;
  min: number;
  max: number;
  avg: number;
}

export interface MaintenanceResult {
  created: number[];
  dropped: number[];
}

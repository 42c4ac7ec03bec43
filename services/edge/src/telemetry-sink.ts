import type { TelemetryRecord } from '@fleetwire/protocol';

export type { TelemetryRecord };

/**
 * Where accepted telemetry goes to be kept (Kafka, or the embedded log). A message with an id is
 * acked to its device only once `append` resolved; a rejection becomes nack `retry`.
 */
export interface TelemetrySink {
  /** False while the sink cannot take records; readiness reports it. */
  readonly ready?: boolean;
  /** Why it is not ready, for /readyz (e.g. "writer stuck for 42 s"). */
  readonly notReadyBecause?: string | undefined;
  append(record: TelemetryRecord): Promise<void>;
  /** Resolves once everything appended so far is stored (called when draining). */
  flush(): Promise<void>;
}

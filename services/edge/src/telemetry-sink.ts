import type { TelemetryRecord } from '@fleetwire/protocol';

export type { TelemetryRecord };

/**
 * Where accepted telemetry goes to be kept (Kafka, or the embedded log). A message with an id is
 * acked to its device only once `append` resolved; a rejection becomes nack `retry`.
 */
export interface TelemetrySink {
  /** False while the sink cannot take records; readiness reports it. */
  readonly ready?: boolean;
  /** Why it is not ready, for /readyz and /health (e.g. "writer stuck for 42 s"). */
  readonly notReadyBecause?: string | undefined;
  /**
   * True when the sink is part of this process (the embedded mode): its state then decides the
   * node's readiness. A remote log (Kafka) is a dependency: reported, never a readiness check,
   * so a broker blip does not take every edge out of the load balancer at once.
   */
  readonly gatesReadiness?: boolean;
  append(record: TelemetryRecord): Promise<void>;
  /** Resolves once everything appended so far is stored (called when draining). */
  flush(): Promise<void>;
}

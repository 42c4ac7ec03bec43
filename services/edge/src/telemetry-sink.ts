/** One telemetry message as the edge accepted it. */
export interface TelemetryRecord {
  tenant: string;
  deviceId: string;
  /** The device's message id, when it wants an ack. */
  id?: string;
  topic: string;
  /** Server receive time, ms since the epoch. */
  ts: number;
  data: Record<string, unknown>;
}

/**
 * Where accepted telemetry goes to be kept (Kafka, or the embedded log). A message with an id is
 * acked to its device only once `append` resolved; a rejection becomes nack `retry`.
 */
export interface TelemetrySink {
  append(record: TelemetryRecord): Promise<void>;
  /** Resolves once everything appended so far is stored (called when draining). */
  flush(): Promise<void>;
}

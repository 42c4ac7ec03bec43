import type { TelemetryRecord } from '@fleetwire/protocol';

/**
 * Where the edge keeps accepted telemetry until the ingest worker stored it. `append` resolves
 * only once the record is durable in the log; a rejection means it is not, and the device is
 * told to retry.
 */
export interface TelemetryLog {
  readonly ready: boolean;
  append(record: TelemetryRecord): Promise<void>;
  /** Resolves once everything appended so far is durable (or failed). */
  flush(): Promise<void>;
  close(): Promise<void>;
}

export type TelemetryLogErrorCode = 'LOG_BUFFER_FULL' | 'LOG_UNAVAILABLE' | 'LOG_CLOSED';

export class TelemetryLogError extends Error {
  override readonly name = 'TelemetryLogError';
  constructor(
    readonly code: TelemetryLogErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

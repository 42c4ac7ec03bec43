export { KafkaTelemetryLog, type KafkaTelemetryLogOptions } from './kafka-telemetry-log.js';
export { MemoryTelemetryLog } from './memory-telemetry-log.js';
export { TelemetryLogMetrics } from './metrics.js';
export { TelemetryBatcher, type BatcherOptions } from './telemetry-batcher.js';
export {
  TelemetryLogError,
  type TelemetryLog,
  type TelemetryLogErrorCode,
} from './telemetry-log.js';

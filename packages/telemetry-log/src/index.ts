export { KafkaLagProbe, type KafkaLagProbeOptions } from './kafka-lag-probe.js';
export { kafkaLogCreator, type KafkaLogSink } from './kafka-logging.js';
export {
  DEFAULT_REBALANCE_TIMEOUT_MS,
  KafkaLogReader,
  LOG_READER_RETRY,
  type KafkaLogReaderOptions,
} from './kafka-log-reader.js';
export { KafkaTelemetryLog, type KafkaTelemetryLogOptions } from './kafka-telemetry-log.js';
export {
  LogReaderError,
  partitionKey,
  type LogAssignment,
  type LogBatch,
  type LogPartition,
  type LogPosition,
  type LogReaderErrorCode,
  type LogReaderHandler,
  type LogRecord,
  type TelemetryLogReader,
} from './log-reader.js';
export { MemoryLogReader, type MemoryLogReaderOptions } from './memory-log-reader.js';
export { MemoryTelemetryLog } from './memory-telemetry-log.js';
export { TelemetryLogMetrics } from './metrics.js';
export { TelemetryBatcher, type BatcherOptions } from './telemetry-batcher.js';
export {
  TelemetryLogError,
  type TelemetryLog,
  type TelemetryLogErrorCode,
} from './telemetry-log.js';

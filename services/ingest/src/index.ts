export { API_ROUTES, ReadApi, type ApiDeps, type ApiRequest, type ApiResponse } from './api.js';
export { Batcher, BatcherClosedError, type BatcherOptions } from './batcher.js';
export {
  BatchWriter,
  BatchWriterStoppedError,
  type BatchWriterDeps,
  type PendingRow,
  type WriterStatus,
  type WriterStore,
} from './batch-writer.js';
export { INGEST_ENV_VARIABLES, loadIngestConfig, type IngestConfig } from './config.js';
export {
  DeadLetterSendError,
  type DeadLetter,
  type DeadLetterReceipt,
  type DeadLetterSink,
} from './dead-letter.js';
export {
  DEFAULT_DLQ_MAX_SEND_BYTES,
  DLQ_HEADERS,
  KafkaDeadLetterSink,
  finalKafkaFailure,
  type KafkaDeadLetterSinkOptions,
} from './kafka-dead-letter-sink.js';
export { IngestHttpServer, OPENAPI_FILE, type Readiness } from './http-server.js';
export { IngestMetrics } from './metrics.js';
export { IngestPipeline, type IngestPipelineDeps, type PipelineReadiness } from './pipeline.js';
export {
  checkRecord,
  type DeadLetterReason,
  type RecordLimits,
  type RecordPolicy,
} from './record-check.js';
export { IngestStartError, IngestWorker, type IngestWorkerDeps } from './worker.js';
export { PartitionMaintenance, type MaintenanceOptions } from './maintenance.js';

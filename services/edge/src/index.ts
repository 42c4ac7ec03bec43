export { EDGE_ENV_VARIABLES, loadEdgeConfig, type EdgeConfig, type EdgeLimits } from './config.js';
export { EdgeMetrics } from './metrics.js';
export { EDGE_LISTEN_FAILED, EdgeListenError, EdgeServer, type EdgeServerDeps } from './server.js';
export type { TelemetryRecord, TelemetrySink } from './telemetry-sink.js';
export { UwsFallbackError, isNativeUws, loadUws, type Uws } from './uws.js';

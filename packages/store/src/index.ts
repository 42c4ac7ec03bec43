export {
  StoreError,
  isWasmTrap,
  sqlStateOf,
  toStoreError,
  writeFailureKind,
  type StoreErrorCode,
  type StoreErrorOptions,
  type WriteFailureKind,
} from './errors.js';
export {
  SqlDeviceStateStore,
  StateVersionConflict,
  type DeviceStateStore,
} from './device-state-store.js';
export { MIGRATIONS_DIR, loadMigrations, migrate, type Migration } from './migrate.js';
export { openSqlClient, type OpenOptions } from './open.js';
export { DAY_MS, dayStart, partitionName } from './partitions.js';
export { createPgClient, type PgDriverOptions } from './pg-driver.js';
export { createPgliteClient } from './pglite-driver.js';
export { MAX_WAITING_STATEMENTS, createPgliteThreadClient } from './pglite-thread.js';
export type { SqlClient } from './sql-client.js';
export { MAX_DATA_DEPTH, TelemetryStore, type TelemetryStoreOptions } from './telemetry-store.js';
export type {
  Bucket,
  BucketQuery,
  LatestKey,
  LatestQuery,
  MaintenanceResult,
  Page,
  PointKey,
  RangeQuery,
  TelemetryPoint,
  TelemetryRow,
} from './telemetry-queries.js';

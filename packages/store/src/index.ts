export { StoreError, sqlStateOf, toStoreError, type StoreErrorCode } from './errors.js';
export { MIGRATIONS_DIR, loadMigrations, migrate, type Migration } from './migrate.js';
export { openSqlClient, type OpenOptions } from './open.js';
export { DAY_MS, dayStart, partitionName } from './partitions.js';
export { createPgClient, type PgDriverOptions } from './pg-driver.js';
export { createPgliteClient } from './pglite-driver.js';
export type { SqlClient } from './sql-client.js';
export {
  TelemetryStore,
  type Bucket,
  type BucketQuery,
  type LatestKey,
  type LatestQuery,
  type MaintenanceResult,
  type Page,
  type PointKey,
  type RangeQuery,
  type TelemetryPoint,
  type TelemetryRow,
} from './telemetry-store.js';

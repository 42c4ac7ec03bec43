export type { ServiceEndpoints, ServiceSource } from './endpoints.js';
export { TestkitError, type TestkitErrorCode } from './errors.js';
export { fuzzSettings, type FuzzSettings } from './fuzz-settings.js';
export { LocalKafka } from './local/kafka.js';
export { LocalPostgres } from './local/postgres.js';
export { LocalRedis } from './local/redis.js';
export { LocalRedisCluster, LocalRedisClusterNode } from './local/redis-cluster.js';
export type { LocalService, LocalServiceOptions } from './local/local-service.js';
export { freePort } from './local/free-port.js';
export { TcpProxy } from './local/tcp-proxy.js';
export { waitFor } from './wait-for.js';
export { startServiceStack, type ServiceStack, type StackEnv } from './service-stack.js';
export {
  createTestEnv,
  serviceEndpoints,
  testKafka,
  testPostgres,
  testRedis,
  testRedisCluster,
  type TestEnv,
  type TestKafka,
  type TestPostgres,
  type TestRedis,
  type TestRedisCluster,
} from './test-env.js';
export {
  killServicesFromSource,
  runServiceFromSource,
  type ServiceFromSource,
  type ServiceFromSourceOptions,
} from './service-from-source.js';
export { pythonVenv, type PythonVenv, type PythonVenvOptions } from './python-venv.js';
export { selfSignedCertificate, type SelfSignedCertificate } from './tls.js';

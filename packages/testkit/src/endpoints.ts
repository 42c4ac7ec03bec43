/** Where the run's shared services answer, and where each came from. */
export interface ServiceEndpoints {
  redisUrl: string;
  kafkaBrokers: string[];
  /** Admin URL; suites get a fresh database of their own from it. */
  databaseUrl: string;
  /** `host:port` of the masters of a Redis Cluster (sharded pub/sub, Redis ≥ 7). */
  redisClusterNodes: string[];
  sources: {
    redis: ServiceSource;
    kafka: ServiceSource;
    postgres: ServiceSource;
    redisCluster: ServiceSource;
  };
}

export type ServiceSource = 'env' | 'container' | 'local';

declare module 'vitest' {
  export interface ProvidedContext {
    fleetwireServices: ServiceEndpoints;
  }
}

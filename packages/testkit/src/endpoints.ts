/** Where the run's shared services answer, and where each came from. */
export interface ServiceEndpoints {
  redisUrl: string;
  kafkaBrokers: string[];
  /** Admin URL; suites get a fresh database of their own from it. */
  databaseUrl: string;
  sources: { redis: ServiceSource; kafka: ServiceSource; postgres: ServiceSource };
}

export type ServiceSource = 'env' | 'container' | 'local';

declare module 'vitest' {
  export interface ProvidedContext {
    fleetwireServices: ServiceEndpoints;
  }
}

/** What every peer server program of this folder is told by servers.ts, through its environment. */
export interface BenchServerEnv {
  host: string;
  port: number;
  secret: string;
  /** Cross-node fan-out through this Redis; absent: one node. */
  redisUrl?: string;
}

export function benchServerEnv(env: NodeJS.ProcessEnv): BenchServerEnv {
  const { BENCH_HOST, BENCH_PORT, BENCH_SECRET, BENCH_REDIS_URL } = env;
  if (!BENCH_HOST || !BENCH_PORT || !BENCH_SECRET) {
    throw new Error('BENCH_HOST, BENCH_PORT and BENCH_SECRET are required');
  }
  return {
    host: BENCH_HOST,
    port: Number(BENCH_PORT),
    secret: BENCH_SECRET,
    ...(BENCH_REDIS_URL ? { redisUrl: BENCH_REDIS_URL } : {}),
  };
}

/** The JSON frames the raw servers read: the subset of Fleetwire's protocol the bench sends. */
export type RawClientMessage =
  | { type: 'subscribe'; id?: string; topics: string[] }
  | { type: 'publish'; topic: string; data: unknown };

/**
 * Raw servers with Redis publish every message there under this prefix and deliver what comes
 * back (their own messages included), so each message crosses Redis once, as Fleetwire's do.
 */
export const REDIS_CHANNEL_PREFIX = 'peers:';

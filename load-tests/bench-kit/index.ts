export { benchArgs } from './args.js';
export { BENCH_SECRET, BENCH_TENANT, benchToken } from './tokens.js';
export { startBenchEdge, type BenchEdge } from './edge.js';
export { openBenchSocket, type OpenOptions } from './socket.js';
export { now, percentile } from './stats.js';

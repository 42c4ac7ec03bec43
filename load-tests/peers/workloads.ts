/**
 * The four workloads every server runs, each with the same client processes:
 *   idle      N authenticated sockets held open: server RSS and Redis bytes per socket;
 *   fan-out   1 publisher → 1,000 subscribers on one node, 2,000 messages: deliveries/s;
 *   storm     5,000 connects with JWTs, 200 at a time: upgrades/s (until the server's ready),
 *             then as many again on the warmed-up process;
 *   cross     subscribers on node B, a publisher on node A at a fixed rate: p50/p99 latency.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

import { Redis } from 'ioredis';

import { ClientProcess, newSourceAddress } from './clients.js';
import { HOST, type Peer } from './servers.js';
import { countWrites } from './syscalls.js';

export interface Sizes {
  idleSockets: number;
  fanoutSubscribers: number;
  fanoutMessages: number;
  stormConnects: number;
  stormConcurrency: number;
  crossSubscribers: number;
  crossRate: number;
  crossSeconds: number;
}

export const FULL: Sizes = {
  idleSockets: 15_000,
  fanoutSubscribers: 1_000,
  fanoutMessages: 2_000,
  stormConnects: 5_000,
  stormConcurrency: 200,
  crossSubscribers: 100,
  crossRate: 1_000,
  crossSeconds: 5,
};

export const QUICK: Sizes = {
  idleSockets: 3_000,
  fanoutSubscribers: 200,
  fanoutMessages: 1_000,
  stormConnects: 1_000,
  stormConcurrency: 100,
  crossSubscribers: 50,
  crossRate: 500,
  crossSeconds: 2,
};

export interface IdleResult {
  rssBytesPerSocket: number;
  redisBytesPerSocket: number;
  /**
   * Fleetwire only: Redis writes per second at rest (keys changed, `rdb_changes_since_last_save`)
   * with no socket, after the first third, and with all of them.
   */
  restWrites?: { none: number; first: number; all: number };
  failed: number;
}
export interface FanoutResult {
  deliveriesPerSec: number;
  lost: number;
  /** With `countSyscalls`: the server's socket writes per 1,000 deliveries (strace). */
  writesPerThousand?: number;
}
export interface StormResult {
  upgradesPerSec: number;
  /**
   * Server CPU time (user + system, /proc) per completed upgrade: unlike the rate, it barely
   * moves with what else runs on the machine.
   */
  cpuMicrosPerUpgrade: number;
  /** Redis's own CPU time per upgrade (INFO cpu): the other process a connect keeps busy. */
  redisCpuMicrosPerUpgrade: number;
  /** Commands Redis processed per upgrade (INFO stats: a script's inner calls count too). */
  redisCommandsPerUpgrade: number;
  /** Read events Redis processed per upgrade (INFO stats): how well its clients batch. */
  redisReadsPerUpgrade: number;
  /** With `countSyscalls`: the server's socket writes per upgrade (strace). */
  writesPerUpgrade?: number;
  failed: number;
  /**
   * A second storm as large on the same process, the first one's sockets still open: the server
   * warmed up (JIT, heap sizes), as the surviving nodes are when a dead node's devices come back.
   */
  warm: { upgradesPerSec: number; cpuMicrosPerUpgrade: number; failed: number };
}
export interface CrossResult {
  p50Ms: number;
  p99Ms: number;
  lost: number;
}

const TOPIC = 'devices/pub-0/telemetry';
/** Client processes per workload: sockets spread so none holds more than ~5k. */
const PROCESSES = 3;

const settle = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** CPU time the processes used so far, user + system, in µs (/proc/<pid>/stat, clock ticks). */
function cpuMicros(pids: number[]): number {
  let ticks = 0;
  for (const pid of pids) {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces, inside parentheses).
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    ticks += Number(fields[11]) + Number(fields[12]);
  }
  return (ticks * 1e6) / CLOCK_TICKS_PER_SEC;
}

/** `getconf CLK_TCK`: 100 on every Linux this runs on. */
const CLOCK_TICKS_PER_SEC = 100;

/**
 * Resident anonymous memory (RssAnon): what sockets cost. VmRSS also counts mapped files (the
 * binary, its libraries), which the kernel evicts under the shared machine's memory pressure and
 * which made a server shrink while it took sockets.
 */
export function rssBytes(pids: number[]): number {
  let total = 0;
  for (const pid of pids) {
    const line = readFileSync(`/proc/${pid}/status`, 'utf8').match(/^RssAnon:\s+(\d+) kB/m);
    total += Number(line?.[1] ?? 0) * 1024;
  }
  return total;
}

/**
 * Two presence heartbeats at the edge's default TTL (30 s, a renewal every 10 s): a window of a
 * whole number of periods holds the same number of renewals wherever it starts.
 */
const REST_WINDOW_MS = 20_000;

/** Keys Redis changed per second over the window, nothing else happening: the writes at rest. */
async function redisWritesPerSec(redis: Redis): Promise<number> {
  const dirty = async (): Promise<number> => {
    const info = await redis.info('persistence');
    return Number(info.match(/^rdb_changes_since_last_save:(\d+)/m)?.[1] ?? 0);
  };
  const before = await dirty();
  await settle(REST_WINDOW_MS);
  return ((await dirty()) - before) / (REST_WINDOW_MS / 1000);
}

/** Redis's CPU time so far (user + system, µs) and the commands its clients sent it. */
async function redisWork(
  redis: Redis,
): Promise<{ cpuMicros: number; commands: number; reads: number }> {
  const info = await redis.info();
  const field = (name: string): number =>
    Number(info.match(new RegExp(`^${name}:([\\d.]+)`, 'm'))?.[1] ?? 0);
  return {
    cpuMicros: (field('used_cpu_user') + field('used_cpu_sys')) * 1e6,
    commands: field('total_commands_processed'),
    reads: field('total_reads_processed'),
  };
}

async function redisUsedBytes(redis: Redis): Promise<number> {
  const info = await redis.info('memory');
  return Number(info.match(/^used_memory:(\d+)/m)?.[1] ?? 0);
}

/** `total` split over `parts` as evenly as whole numbers allow. */
export function split(total: number, parts: number): number[] {
  return Array.from(
    { length: parts },
    (_, i) => Math.floor(total / parts) + (i < total % parts ? 1 : 0),
  );
}

async function stopAll(clients: ClientProcess[]): Promise<void> {
  await Promise.all(clients.map((client) => client.stop()));
}

/**
 * Every Node server of the idle row runs with its young generation at a fixed 32 MiB (two 16 MiB
 * semi-spaces, V8's largest default). Left to itself V8 grows it from 1–4 MiB to 32 MiB during a
 * connect burst and gives it back only when its memory reducer runs, which it schedules after
 * some bursts and not others (measured here: 25 s after the 15,000th socket, never within 120 s
 * after the 5,000th): the difference of two readings then moved by up to 1.6 KB per socket between
 * runs of one build, and raw uWS read −1 KB. Fixed, it is the same constant in both readings.
 * Old-generation garbage varies the same way (raw uWS read 0.5 and 3.5 KB in two rounds with the
 * young generation fixed), so each reading follows a full collection. Centrifugo (Go) is read as
 * it is.
 */
const IDLE_NODE_FLAGS = [
  '--min-semi-space-size=16',
  '--max-semi-space-size=16',
  // SIGUSR2 collects the garbage (gc-on-signal.mjs): each reading is taken right after one.
  '--expose-gc',
  '--import',
  fileURLToPath(new URL('./gc-on-signal.mjs', import.meta.url)),
];

/** Client processes opening `counts[i]` sessions each, from a source address of their own. */
function sessionClients(
  peer: Peer,
  port: number,
  counts: number[],
  concurrency: number,
  subPrefix: (i: number) => string,
): ClientProcess[] {
  return counts.map(
    (count, i) =>
      new ClientProcess({
        kind: 'connect',
        protocol: peer.protocol,
        host: HOST,
        port,
        localAddress: newSourceAddress(),
        role: peer.role,
        count,
        concurrency,
        subPrefix: subPrefix(i),
      }),
  );
}

/**
 * The marginal cost of a socket: RSS and Redis bytes after the first third of the sockets and
 * after all of them, divided by the sockets in between. A process's size right after start
 * still holds its startup garbage (tsx's compile, a first GC not yet run), which would swamp
 * ~1 KB per socket; two readings with sockets already open cancel it.
 */
export async function idle(peer: Peer, sizes: Sizes, redisUrl: string): Promise<IdleResult> {
  const redis = new Redis(redisUrl);
  const server = await peer.start({ nodes: 1, redisUrl, nodeFlags: IDLE_NODE_FLAGS });
  const clients: ClientProcess[] = [];
  const connect = async (counts: number[], first: number): Promise<number> => {
    const started = sessionClients(peer, server.ports[0]!, counts, 100, (i) => `idle-${first + i}`);
    clients.push(...started);
    const connected = await Promise.all(started.map((c) => c.next('connected', 120_000)));
    await settle(3_000);
    // Every server but Centrifugo (Go, its collector on its own) collects on SIGUSR2.
    if (peer.name !== 'centrifugo') {
      for (const pid of server.pids) process.kill(pid, 'SIGUSR2');
      await settle(2_000);
    }
    return connected.reduce((sum, r) => sum + r.ok, 0);
  };
  // Only Fleetwire keeps anything in Redis while its sockets idle.
  const atRest = peer.name === 'fleetwire' ? () => redisWritesPerSec(redis) : undefined;
  try {
    const none = await atRest?.();
    const [firstThird, ...rest] = split(sizes.idleSockets, PROCESSES);
    const heldBefore = await connect([firstThird!], 0);
    const rssBefore = rssBytes(server.pids);
    const redisBefore = await redisUsedBytes(redis);
    const first = await atRest?.();
    const added = await connect(rest, 1);
    const rssAfter = rssBytes(server.pids);
    const redisAfter = await redisUsedBytes(redis);
    const all = await atRest?.();
    return {
      rssBytesPerSocket: (rssAfter - rssBefore) / added,
      redisBytesPerSocket: (redisAfter - redisBefore) / added,
      ...(none === undefined || first === undefined || all === undefined
        ? {}
        : { restWrites: { none, first, all } }),
      failed: sizes.idleSockets - heldBefore - added,
    };
  } finally {
    await stopAll(clients);
    await server.stop();
    redis.disconnect();
  }
}

export async function fanout(
  peer: Peer,
  sizes: Sizes,
  redisUrl: string,
  countSyscalls = false,
): Promise<FanoutResult> {
  // One node: Fleetwire runs as deployed (with Redis, which each publish crosses once); the
  // peers' same-node fan-out needs none.
  const server = await peer.start({
    nodes: 1,
    ...(peer.name === 'fleetwire' ? { redisUrl } : {}),
  });
  const perProcess = split(sizes.fanoutSubscribers, 2);
  const clients = perProcess.map(
    (count, i) =>
      new ClientProcess({
        kind: 'connect',
        protocol: peer.protocol,
        host: HOST,
        port: server.ports[0]!,
        localAddress: newSourceAddress(),
        role: 'dashboard',
        topic: TOPIC,
        count,
        concurrency: 100,
        subPrefix: `sub-${i}`,
        expect: count * sizes.fanoutMessages,
      }),
  );
  const publisher = new ClientProcess({
    kind: 'publish',
    protocol: peer.protocol,
    host: HOST,
    port: server.ports[0]!,
    localAddress: newSourceAddress(),
    role: 'device',
    sub: 'pub-0',
    topic: TOPIC,
    messages: sizes.fanoutMessages,
  });
  try {
    await Promise.all([...clients, publisher].map((c) => c.next('connected', 60_000)));
    const run = (): Promise<FanoutResult> => fanoutRun(sizes, clients, publisher);
    if (!countSyscalls) return await run();
    const { result, writes } = await countWrites(server.pids, run);
    const delivered = sizes.fanoutSubscribers * sizes.fanoutMessages - result.lost;
    return { ...result, writesPerThousand: (writes / delivered) * 1000 };
  } finally {
    await stopAll([...clients, publisher]);
    await server.stop();
  }
}

async function fanoutRun(
  sizes: Sizes,
  clients: ClientProcess[],
  publisher: ClientProcess,
): Promise<FanoutResult> {
  publisher.send({ kind: 'go' });
  const published = await publisher.next('published', 60_000);
  const expected = sizes.fanoutSubscribers * sizes.fanoutMessages;
  const done = await Promise.allSettled(clients.map((c) => c.next('delivered', 60_000)));
  let delivered = 0;
  let lastAt = 0;
  for (const [i, outcome] of done.entries()) {
    if (outcome.status === 'fulfilled') {
      delivered += outcome.value.delivered;
      lastAt = Math.max(lastAt, outcome.value.lastAt);
    } else {
      clients[i]!.send({ kind: 'stats' });
      const stats = await clients[i]!.next('stats', 10_000);
      delivered += stats.delivered;
      lastAt = Math.max(lastAt, stats.lastAt);
    }
  }
  return {
    deliveriesPerSec: delivered / ((lastAt - published.startedAt) / 1000),
    lost: expected - delivered,
  };
}

export async function storm(
  peer: Peer,
  sizes: Sizes,
  redisUrl: string,
  countSyscalls = false,
): Promise<StormResult> {
  const server = await peer.start({ nodes: 1, redisUrl });
  const redis = new Redis(redisUrl);
  const clients: ClientProcess[] = [];
  /** One storm of `sizes.stormConnects` from two new client processes, until all are ready. */
  const wave = async (name: string, trace: boolean) => {
    const counts = split(sizes.stormConnects, 2);
    const concurrency = sizes.stormConcurrency / 2;
    const wave = sessionClients(peer, server.ports[0]!, counts, concurrency, (i) => `${name}-${i}`);
    clients.push(...wave);
    const cpuBefore = cpuMicros(server.pids);
    const connected = () => Promise.all(wave.map((c) => c.next('connected', 120_000)));
    const traced = trace ? await countWrites(server.pids, connected) : undefined;
    const reports = traced?.result ?? (await connected());
    const cpuAfter = cpuMicros(server.pids);
    const ok = reports.reduce((sum, r) => sum + r.ok, 0);
    const startedAt = Math.min(...reports.map((r) => r.startedAt));
    const endedAt = Math.max(...reports.map((r) => r.endedAt));
    return {
      ok,
      upgradesPerSec: ok / ((endedAt - startedAt) / 1000),
      cpuMicrosPerUpgrade: (cpuAfter - cpuBefore) / ok,
      failed: sizes.stormConnects - ok,
      writes: traced?.writes,
    };
  };
  try {
    const redisBefore = await redisWork(redis);
    const first = await wave('storm', countSyscalls);
    const redisAfter = await redisWork(redis);
    const warm = await wave('storm-warm', false);
    return {
      upgradesPerSec: first.upgradesPerSec,
      cpuMicrosPerUpgrade: first.cpuMicrosPerUpgrade,
      // Less the INFO call that read it.
      redisCommandsPerUpgrade: (redisAfter.commands - redisBefore.commands - 1) / first.ok,
      redisCpuMicrosPerUpgrade: (redisAfter.cpuMicros - redisBefore.cpuMicros) / first.ok,
      redisReadsPerUpgrade: (redisAfter.reads - redisBefore.reads - 1) / first.ok,
      ...(first.writes === undefined ? {} : { writesPerUpgrade: first.writes / first.ok }),
      failed: first.failed,
      warm: {
        upgradesPerSec: warm.upgradesPerSec,
        cpuMicrosPerUpgrade: warm.cpuMicrosPerUpgrade,
        failed: warm.failed,
      },
    };
  } finally {
    redis.disconnect();
    await stopAll(clients);
    await server.stop();
  }
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

export async function cross(peer: Peer, sizes: Sizes, redisUrl: string): Promise<CrossResult> {
  const server = await peer.start({ nodes: 2, redisUrl });
  const messages = sizes.crossRate * sizes.crossSeconds;
  const subscribers = new ClientProcess({
    kind: 'connect',
    protocol: peer.protocol,
    host: HOST,
    port: server.ports[1]!,
    localAddress: newSourceAddress(),
    role: 'dashboard',
    topic: TOPIC,
    count: sizes.crossSubscribers,
    concurrency: 50,
    subPrefix: 'cross',
    expect: sizes.crossSubscribers * messages,
    latency: true,
  });
  const publisher = new ClientProcess({
    kind: 'publish',
    protocol: peer.protocol,
    host: HOST,
    port: server.ports[0]!,
    localAddress: newSourceAddress(),
    role: 'device',
    sub: 'pub-0',
    topic: TOPIC,
    messages,
    ratePerSec: sizes.crossRate,
  });
  try {
    // Every server here answers a subscribe once it holds across nodes, or subscribed to
    // Redis at start.
    await Promise.all([subscribers, publisher].map((c) => c.next('connected', 60_000)));
    publisher.send({ kind: 'go' });
    await publisher.next('published', sizes.crossSeconds * 1000 + 30_000);
    await subscribers.next('delivered', 20_000).catch(() => undefined);
    subscribers.send({ kind: 'stats' });
    const stats = await subscribers.next('stats', 10_000);
    const sorted = stats.latencies.sort((a, b) => a - b);
    return {
      p50Ms: percentile(sorted, 50),
      p99Ms: percentile(sorted, 99),
      lost: sizes.crossSubscribers * messages - stats.delivered,
    };
  } finally {
    await stopAll([subscribers, publisher]);
    await server.stop();
  }
}

import { availableParallelism, cpus, loadavg } from 'node:os';

import { benchArgs, percentile } from '@fleetwire/bench-kit';
import { RedisBus, RedisClusterBus, clusterNodes, type Bus } from '@fleetwire/bus';
import { LocalRedis, LocalRedisCluster } from '@fleetwire/testkit';
import { Redis } from 'ioredis';

/**
 * The bus on a 3-master Redis Cluster (sharded pub/sub) against one Redis, same run, same
 * process, interleaved rounds: cross-node latency of one message, fan-out to three subscriber
 * nodes over eight tenants, and Redis commands per publish (INFO commandstats on every server)
 * with interest-based publishing on and off. Prints a Markdown report (RESULTS.md).
 *
 *   pnpm --filter @fleetwire/load-tests-redis-cluster bench [-- --rounds 3]
 */
const args = benchArgs();
const ROUNDS = args.includes('--rounds') ? Number(args[args.indexOf('--rounds') + 1]) : 3;
const LATENCY_SAMPLES = 2_000;
const FANOUT_MESSAGES = 20_000;
const COMMAND_MESSAGES = 5_000;
const TENANTS = 8;

const payload = Buffer.from(
  JSON.stringify({ type: 'message', kind: 'telemetry', from: 'd1', data: { temperature: 21.5 } }),
);

interface Backend {
  name: string;
  connect(id: string): Promise<Bus>;
  /** Sum of `calls` over every command of every server. */
  commands(): Promise<number>;
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[xs.length >> 1] ?? NaN;

async function commandCalls(servers: Redis[]): Promise<number> {
  let total = 0;
  for (const server of servers) {
    const info = await server.info('commandstats');
    for (const match of info.matchAll(/^cmdstat_[^:]+:calls=(\d+)/gm)) total += Number(match[1]);
  }
  // The INFO just run counts itself on each server.
  return total - servers.length;
}

/** Resolves when `count()` reaches `n` (checked on every delivery). */
function collector(bus: Bus): {
  count: () => number;
  until(n: number): Promise<void>;
  at: Map<string, number>;
} {
  let seen = 0;
  let waiter: { n: number; done: () => void } | undefined;
  const at = new Map<string, number>();
  bus.onTopicMessage((_topic, body) => {
    seen += 1;
    at.set(body.toString(), performance.now());
    if (waiter && seen >= waiter.n) {
      waiter.done();
      waiter = undefined;
    }
  });
  return {
    count: () => seen,
    at,
    until: (n) => (seen >= n ? Promise.resolve() : new Promise((done) => (waiter = { n, done }))),
  };
}

/** One message at a time, A → B, as soon as the previous one arrived: p50/p99 in ms. */
async function latency(backend: Backend, round: number): Promise<{ p50: number; p99: number }> {
  const [a, b] = await Promise.all([
    backend.connect(`lat-a${round}`),
    backend.connect(`lat-b${round}`),
  ]);
  try {
    const tenant = `lat${round}`;
    await b.addPattern(`${tenant}/devices/+/telemetry`);
    const inB = collector(b);
    const times: number[] = [];
    for (let i = 0; i < LATENCY_SAMPLES + 200; i++) {
      const started = performance.now();
      await a.publish(`${tenant}/devices/d1/telemetry`, Buffer.from(String(i)));
      await inB.until(i + 1);
      if (i >= 200) times.push((inB.at.get(String(i)) as number) - started);
    }
    times.sort((x, y) => x - y);
    return { p50: percentile(times, 0.5), p99: percentile(times, 0.99) };
  } finally {
    await Promise.all([a.close(), b.close()]);
  }
}

/** A publishes round-robin over eight tenants, 256 in flight; three nodes each hear all. */
async function fanout(backend: Backend, round: number): Promise<number> {
  const a = await backend.connect(`fan-a${round}`);
  const subscribers = await Promise.all(
    [0, 1, 2].map((k) => backend.connect(`fan-s${k}-${round}`)),
  );
  try {
    const collectors = subscribers.map(collector);
    for (const s of subscribers) {
      for (let t = 0; t < TENANTS; t++) await s.addPattern(`fan${round}t${t}/devices/+/telemetry`);
    }
    const started = performance.now();
    let inFlight: Promise<void>[] = [];
    for (let i = 0; i < FANOUT_MESSAGES; i++) {
      inFlight.push(a.publish(`fan${round}t${i % TENANTS}/devices/d${i % 50}/telemetry`, payload));
      if (inFlight.length >= 256) {
        await Promise.all(inFlight);
        inFlight = [];
      }
    }
    await Promise.all(inFlight);
    await Promise.all(collectors.map((c) => c.until(FANOUT_MESSAGES)));
    return (3 * FANOUT_MESSAGES) / ((performance.now() - started) / 1000);
  } finally {
    await Promise.all([a, ...subscribers].map((bus) => bus.close()));
  }
}

/** Redis commands per publish (all servers): to a topic B listens to, and to one nobody does. */
async function commandsPerPublish(
  backend: Backend,
  round: number,
): Promise<{ heard: number; unheard: number }> {
  const [a, b] = await Promise.all([
    backend.connect(`cmd-a${round}`),
    backend.connect(`cmd-b${round}`),
  ]);
  try {
    const tenant = `cmd${round}`;
    await b.addPattern(`${tenant}/rooms/#`);
    const inB = collector(b);
    // The publisher's first publish into a tenant reads its interest table: not measured.
    await a.publish(`${tenant}/rooms/warm`, payload);
    await inB.until(1);
    const per = async (topic: string): Promise<number> => {
      const before = await backend.commands();
      for (let i = 0; i < COMMAND_MESSAGES; i++) await a.publish(topic, payload);
      return ((await backend.commands()) - before) / COMMAND_MESSAGES;
    };
    const heard = await per(`${tenant}/rooms/r1`);
    const unheard = await per(`${tenant}/devices/d1/telemetry`);
    return { heard, unheard };
  } finally {
    await Promise.all([a.close(), b.close()]);
  }
}

async function main(): Promise<void> {
  const load = loadavg()[0]?.toFixed(1);
  const single = await LocalRedis.launch();
  const cluster = await LocalRedisCluster.launch();
  const singleAdmin = [new Redis(single.url)];
  const clusterAdmin = cluster.addresses.map((address) => new Redis(`redis://${address}`));
  const startup = clusterNodes(cluster.addresses);
  const backends: Backend[] = [
    {
      name: 'one Redis (PUBLISH)',
      connect: (id) => RedisBus.connect({ url: single.url, nodeId: id, prefix: 'bench:' }),
      commands: () => commandCalls(singleAdmin),
    },
    {
      name: 'cluster, interest off (SPUBLISH)',
      connect: (id) =>
        RedisClusterBus.connect({ nodes: startup, nodeId: id, prefix: 'bench:', interest: false }),
      commands: () => commandCalls(clusterAdmin),
    },
    {
      name: 'cluster, interest on',
      connect: (id) => RedisClusterBus.connect({ nodes: startup, nodeId: id, prefix: 'bench:' }),
      commands: () => commandCalls(clusterAdmin),
    },
  ];
  const results = new Map(
    backends.map((b) => [
      b.name,
      {
        p50: [] as number[],
        p99: [] as number[],
        fanout: [] as number[],
        heard: [] as number[],
        unheard: [] as number[],
      },
    ]),
  );
  try {
    for (let round = 0; round < ROUNDS; round++) {
      for (const backend of backends) {
        const r = results.get(backend.name)!;
        const lat = await latency(backend, round);
        r.p50.push(lat.p50);
        r.p99.push(lat.p99);
        r.fanout.push(await fanout(backend, round));
        const cmd = await commandsPerPublish(backend, round);
        r.heard.push(cmd.heard);
        r.unheard.push(cmd.unheard);
        console.error(`round ${round} ${backend.name}: ${JSON.stringify({ lat, cmd })}`);
      }
    }
  } finally {
    for (const admin of [...singleAdmin, ...clusterAdmin]) admin.disconnect();
    await Promise.all([single.dispose(), cluster.dispose()]);
  }
  const base = results.get(backends[0]!.name)!;
  const rows = backends.map((b) => {
    const r = results.get(b.name)!;
    const ratio = (xs: number[], ys: number[]) => (median(xs) / median(ys)).toFixed(2);
    return `| ${b.name} | ${median(r.p50).toFixed(3)} | ${median(r.p99).toFixed(3)} | ${Math.round(median(r.fanout))} | ${median(r.heard).toFixed(2)} | ${median(r.unheard).toFixed(2)} | ×${ratio(r.p50, base.p50)} / ×${ratio(r.p99, base.p99)} / ×${ratio(r.fanout, base.fanout)} |`;
  });
  console.log(`# The bus on a Redis Cluster vs one Redis

${new Date().toISOString()} · Node ${process.versions.node} · ${cpus()[0]?.model ?? 'cpu'} × ${availableParallelism()} · load average ${load} before the run · Redis ${await redisVersion()} · medians of ${ROUNDS} interleaved rounds

| backend | cross-node p50 ms | p99 ms | fan-out deliveries/s (1 → 3 nodes, 8 tenants) | Redis commands per publish, heard | … nobody listens | vs one Redis: p50 / p99 / fan-out |
| --- | ---: | ---: | ---: | ---: | ---: | ---: |
${rows.join('\n')}

Latency: ${LATENCY_SAMPLES} messages one at a time from node A to node B (after 200 to warm up).
Fan-out: ${FANOUT_MESSAGES} publishes from A, 256 in flight, round-robin over ${TENANTS} tenants, each
heard by three nodes; from the first publish to the last delivery. Commands: the sum of
\`INFO commandstats\` calls over every server around ${COMMAND_MESSAGES} publishes, to a topic a node
listens to and to one nobody does (the cluster's three masters are all counted).`);
}

async function redisVersion(): Promise<string> {
  const { execFileSync } = await import('node:child_process');
  return /v=(\S+)/.exec(execFileSync('redis-server', ['--version']).toString())?.[1] ?? '?';
}

await main();

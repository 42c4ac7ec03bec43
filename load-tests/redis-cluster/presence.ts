import { availableParallelism, cpus, loadavg } from 'node:os';

import { benchArgs } from '@fleetwire/bench-kit';
import { RedisPresence, clusterNodes, type HeldDevice } from '@fleetwire/bus';
import { LocalRedis, LocalRedisCluster } from '@fleetwire/testkit';
import { Redis } from 'ioredis';

/**
 * Presence on a 3-master Redis Cluster against one Redis, same run: Redis bytes per device,
 * writes per connect, writes per second at rest (with no devices and with all of them), and
 * Redis commands per renewal. Writes are keys changed (`rdb_changes_since_last_save`, the
 * servers run without saving), commands are `INFO commandstats` calls; both summed over every
 * server. Time is passed to the store, so rounds of renewals need no waiting. Prints a Markdown
 * section for RESULTS.md.
 *
 *   pnpm --filter @fleetwire/load-tests-redis-cluster presence [-- --devices 20000]
 */
const args = benchArgs();
const DEVICES = args.includes('--devices') ? Number(args[args.indexOf('--devices') + 1]) : 20_000;
const NODES = 10;
const TENANTS = 20;
const ROUNDS = 30;
const TTL_MS = 30_000;
/** The edge renews every TTL/3 (core/presence-tracker.ts). */
const HEARTBEAT_S = TTL_MS / 3 / 1000;

interface Backend {
  name: string;
  open(): Promise<RedisPresence>;
  servers: Redis[];
}

interface Measured {
  bytesPerDevice: number;
  writesPerConnect: number;
  commandsPerConnect: number;
  restIdle: number;
  restLoaded: number;
  commandsPerRenewal: number;
}

async function sumInfo(servers: Redis[], section: string, field: RegExp): Promise<number> {
  let total = 0;
  for (const server of servers) {
    const info = await server.info(section);
    for (const match of info.matchAll(field)) total += Number(match[1]);
  }
  return total;
}

const writes = (servers: Redis[]) =>
  sumInfo(servers, 'persistence', /^rdb_changes_since_last_save:(\d+)/gm);
const memory = (servers: Redis[]) => sumInfo(servers, 'memory', /^used_memory:(\d+)/gm);
/** The INFO just run counts itself on each server. */
const commands = async (servers: Redis[]) =>
  (await sumInfo(servers, 'commandstats', /^cmdstat_[^:]+:calls=(\d+)/gm)) - servers.length;

async function measure(backend: Backend): Promise<Measured> {
  const stores = await Promise.all(Array.from({ length: NODES }, () => backend.open()));
  const nodes = stores.map((_, i) => `bench-node-${i}`);
  const held: HeldDevice[][] = nodes.map(() => []);
  let now = Date.now();
  const round = async () => {
    now += HEARTBEAT_S * 1000;
    await Promise.all(stores.map((store, i) => store.renew(() => held[i]!, nodes[i]!, now, 0)));
  };
  /** Keys changed per round of renewals (every node once). */
  const atRest = async () => {
    const before = await writes(backend.servers);
    for (let r = 0; r < ROUNDS; r++) await round();
    return ((await writes(backend.servers)) - before) / ROUNDS;
  };
  try {
    await round(); // each store's first renewal creates its lease
    const restIdle = await atRest();
    const [memoryBefore, writesBefore, commandsBefore] = [
      await memory(backend.servers),
      await writes(backend.servers),
      await commands(backend.servers),
    ];
    for (let first = 0; first < DEVICES; first += 1_000) {
      await Promise.all(
        Array.from({ length: Math.min(1_000, DEVICES - first) }, (_, k) => {
          const n = first + k;
          const device = { tenant: `tenant-${n % TENANTS}`, deviceId: `device-${100_000 + n}` };
          held[n % NODES]!.push(device);
          return stores[n % NODES]!.markOnline(device, nodes[n % NODES]!, now);
        }),
      );
    }
    const commandsPerConnect = ((await commands(backend.servers)) - commandsBefore) / DEVICES;
    const writesPerConnect = ((await writes(backend.servers)) - writesBefore) / DEVICES;
    const bytesPerDevice = ((await memory(backend.servers)) - memoryBefore) / DEVICES;
    const restLoaded = await atRest();
    const commandsBeforeRest = await commands(backend.servers);
    for (let r = 0; r < ROUNDS; r++) await round();
    const commandsPerRenewal =
      ((await commands(backend.servers)) - commandsBeforeRest) / (ROUNDS * NODES);
    return {
      bytesPerDevice,
      writesPerConnect,
      commandsPerConnect,
      restIdle: restIdle / HEARTBEAT_S,
      restLoaded: restLoaded / HEARTBEAT_S,
      commandsPerRenewal,
    };
  } finally {
    await Promise.all(stores.map((store) => store.close()));
  }
}

async function redisVersion(): Promise<string> {
  const { execFileSync } = await import('node:child_process');
  return /v=(\S+)/.exec(execFileSync('redis-server', ['--version']).toString())?.[1] ?? '?';
}

async function main(): Promise<void> {
  const load = loadavg()[0]?.toFixed(1);
  const single = await LocalRedis.launch();
  const cluster = await LocalRedisCluster.launch();
  const backends: Backend[] = [
    {
      name: 'one Redis',
      open: () => RedisPresence.connect({ url: single.url, prefix: 'bench:', ttlMs: TTL_MS }),
      servers: [new Redis(single.url)],
    },
    {
      name: 'cluster, 3 masters',
      open: () =>
        RedisPresence.connect({
          nodes: clusterNodes(cluster.addresses),
          prefix: 'bench:',
          ttlMs: TTL_MS,
        }),
      servers: cluster.addresses.map((address) => new Redis(`redis://${address}`)),
    },
  ];
  const results: Measured[] = [];
  try {
    for (const backend of backends) {
      const result = await measure(backend);
      console.error(`${backend.name}: ${JSON.stringify(result)}`);
      results.push(result);
    }
  } finally {
    for (const backend of backends) for (const server of backend.servers) server.disconnect();
    await Promise.all([single.dispose(), cluster.dispose()]);
  }
  const base = results[0]!;
  const ratio = (x: number, y: number) => (y === 0 ? '—' : `×${(x / y).toFixed(2)}`);
  const rows = backends.map((backend, i) => {
    const r = results[i]!;
    return `| ${backend.name} | ${r.bytesPerDevice.toFixed(0)} | ${r.writesPerConnect.toFixed(2)} | ${r.commandsPerConnect.toFixed(2)} | ${r.restIdle.toFixed(2)} | ${r.restLoaded.toFixed(2)} | ${r.commandsPerRenewal.toFixed(2)} | ${ratio(r.bytesPerDevice, base.bytesPerDevice)} / ${ratio(r.restLoaded, base.restLoaded)} / ${ratio(r.commandsPerRenewal, base.commandsPerRenewal)} |`;
  });
  console.log(`## Presence on the cluster vs one Redis

${new Date().toISOString()} · Node ${process.versions.node} · ${cpus()[0]?.model ?? 'cpu'} × ${availableParallelism()} · load average ${load} before the run · Redis ${await redisVersion()}

| backend | Redis bytes per device | writes per connect | commands per connect | writes/s at rest, 0 devices | … ${DEVICES.toLocaleString('en')} devices | commands per renewal | vs one Redis: bytes / writes at rest / commands per renewal |
| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |
${rows.join('\n')}

${NODES} edge nodes (one store each, as each edge process has its own connection), ${DEVICES.toLocaleString('en')} devices
over ${TENANTS} tenants connected through them; TTL ${TTL_MS / 1000} s, so each node renews every ${HEARTBEAT_S} s.
Writes: keys changed (\`rdb_changes_since_last_save\`) over ${ROUNDS} rounds of renewals (every node
once per round), per second of the heartbeat; bytes: \`used_memory\` before and after the
connects; commands: \`INFO commandstats\` calls. All summed over every server (the cluster's three
masters).`);
}

await main();

/**
 * What an idle device socket costs the edge, object by object:
 *
 *   node --conditions=@fleetwire/source --import tsx idle-heap.ts [--redis] [--sockets 15000]
 *     [--edge dist/main.js] [--top 30]
 *
 * Starts the built edge (memory bus, or Redis with `--redis`), opens a third of the sockets,
 * reads RSS, the V8 heap and external memory (its /metrics) and writes a heap snapshot
 * (`--heapsnapshot-signal`), opens the rest and does the same again. Prints the differences ÷ the
 * sockets added, and the heap's objects grouped by constructor (closures by function name), so
 * the per-socket bytes can be traced to what holds them. Bench-only; not part of CI.
 */
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

import { LocalRedis, waitFor } from '@fleetwire/testkit';

import { ClientProcess, newSourceAddress } from './clients.js';
import { EDGE_MAIN, HOST, peers } from './servers.js';
import { rssBytes, split } from './workloads.js';

const { values } = parseArgs({
  options: {
    redis: { type: 'boolean', default: false },
    sockets: { type: 'string', default: '15000' },
    edge: { type: 'string', default: EDGE_MAIN },
    top: { type: 'string', default: '30' },
  },
});
const SOCKETS = Number(values.sockets);
const PROCESSES = 3;

interface Snapshot {
  /** Group of each node: `object Session`, `closure onTimeout`, `(string)`… */
  group: string[];
  id: number[];
  size: number[];
  /** For each node, the nodes that reference it: [referrer index, edge name]. */
  referrers: Array<Array<[number, string]>>;
}

/** A heap snapshot (live objects only: V8 collects before writing it), node by node. */
function load(file: string): Snapshot {
  const raw = JSON.parse(readFileSync(file, 'utf8')) as {
    snapshot: {
      meta: {
        node_fields: string[];
        node_types: [string[]];
        edge_fields: string[];
        edge_types: [string[]];
      };
    };
    nodes: number[];
    edges: number[];
    strings: string[];
  };
  const meta = raw.snapshot.meta;
  const width = meta.node_fields.length;
  const at = (f: string): number => meta.node_fields.indexOf(f);
  const [typeAt, nameAt, idAt, sizeAt, edgesAt] = [
    at('type'),
    at('name'),
    at('id'),
    at('self_size'),
    at('edge_count'),
  ];
  const ewidth = meta.edge_fields.length;
  const count = raw.nodes.length / width;
  const snap: Snapshot = { group: [], id: [], size: [], referrers: [] };
  for (let n = 0; n < count; n++) {
    const i = n * width;
    const type = meta.node_types[0][raw.nodes[i + typeAt]!]!;
    const name = raw.strings[raw.nodes[i + nameAt]!]!;
    snap.group.push(
      type === 'object' || type === 'closure' || type === 'native' || type === 'array'
        ? `${type} ${name.slice(0, 50)}`
        : `(${type})`,
    );
    snap.id.push(raw.nodes[i + idAt]!);
    snap.size.push(raw.nodes[i + sizeAt]!);
    snap.referrers.push([]);
  }
  let e = 0;
  for (let n = 0; n < count; n++) {
    const edges = raw.nodes[n * width + edgesAt]!;
    for (let k = 0; k < edges; k++, e += ewidth) {
      const type = meta.edge_types[0][raw.edges[e]!]!;
      if (type === 'weak' || type === 'shortcut') continue;
      const nameOrIndex = raw.edges[e + 1]!;
      const name =
        type === 'element' || type === 'hidden' ? `[${type}]` : `.${raw.strings[nameOrIndex]}`;
      snap.referrers[raw.edges[e + 2]! / width]!.push([n, name]);
    }
  }
  return snap;
}

async function metric(port: number, name: string): Promise<number> {
  const text = await (await fetch(`http://${HOST}:${port}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name}{`) || l.startsWith(`${name} `));
  return Number(line?.split(' ').at(-1) ?? Number.NaN);
}

const dir = mkdtempSync(join(tmpdir(), 'fleetwire-idle-heap-'));
process.env['BENCH_EDGE_NODE_ARGS'] = `--heapsnapshot-signal=SIGUSR2 --diagnostic-dir=${dir}`;
const redis = values.redis ? await LocalRedis.launch() : undefined;
const peer = peers(undefined, values.edge).find((p) => p.name === 'fleetwire')!;
const server = await peer.start({ nodes: 1, ...(redis ? { redisUrl: redis.url } : {}) });
const port = server.ports[0]!;
const pid = server.pids[0]!;
const clients: ClientProcess[] = [];

async function connect(counts: number[], first: number): Promise<number> {
  const started = counts.map(
    (count, i) =>
      new ClientProcess({
        kind: 'connect',
        protocol: 'fleetwire',
        host: HOST,
        port,
        localAddress: newSourceAddress(),
        role: 'device',
        count,
        concurrency: 100,
        subPrefix: `heap-${first + i}`,
      }),
  );
  clients.push(...started);
  const reports = await Promise.all(started.map((c) => c.next('connected', 180_000)));
  await new Promise((resolve) => setTimeout(resolve, 3_000));
  return reports.reduce((sum, r) => sum + r.ok, 0);
}

async function memory(): Promise<{ rss: number; heapUsed: number; heapTotal: number }> {
  return {
    rss: rssBytes([pid]),
    heapUsed: await metric(port, 'nodejs_heap_size_used_bytes'),
    heapTotal: await metric(port, 'nodejs_heap_size_total_bytes'),
  };
}

async function snapshot(): Promise<Snapshot> {
  const before = readdirSync(dir).length;
  process.kill(pid, 'SIGUSR2');
  await waitFor('heap snapshot', () => readdirSync(dir).length > before, 300_000);
  // The snapshot is written on the main thread: /metrics answers again once it is on disk.
  await metric(port, 'nodejs_heap_size_used_bytes');
  const file = readdirSync(dir)
    .filter((f) => f.endsWith('.heapsnapshot'))
    .sort()
    .at(-1)!;
  return load(join(dir, file));
}

try {
  const [firstThird, ...rest] = split(SOCKETS, PROCESSES);
  const held = await connect([firstThird!], 0);
  // Both readings before any snapshot: writing one grows the process.
  const a = await memory();
  const added = await connect(rest, 1);
  const b = await memory();
  const full = await snapshot();
  // The later sockets close again: what they held and no one else is what the snapshot at
  // `held` no longer has.
  await Promise.all(clients.splice(1).map((c) => c.stop()));
  await waitFor(
    'sockets closed',
    async () => (await metric(port, 'fleetwire_edge_connections')) <= held,
    60_000,
  );
  await new Promise((resolve) => setTimeout(resolve, 2_000));
  const after = await snapshot();
  const kept = new Set(after.id);
  const per = (x: number): string => `${(x / added).toFixed(0).padStart(6)} B`;
  console.log(
    `edge ${values.redis ? 'with Redis' : 'memory bus'}: ${held} → ${held + added} sockets`,
  );
  console.log(`RssAnon          ${per(b.rss - a.rss)} per socket`);
  console.log(`V8 heap used     ${per(b.heapUsed - a.heapUsed)} per socket`);
  console.log(`V8 heap total    ${per(b.heapTotal - a.heapTotal)} per socket`);
  const rows = new Map<string, { count: number; bytes: number; by: Map<string, number> }>();
  let total = 0;
  for (let n = 0; n < full.id.length; n++) {
    if (kept.has(full.id[n]!)) continue;
    const row = rows.get(full.group[n]!) ?? { count: 0, bytes: 0, by: new Map() };
    row.count += 1;
    row.bytes += full.size[n]!;
    total += full.size[n]!;
    for (const [from, edge] of full.referrers[n]!.slice(0, 3)) {
      const key = `${full.group[from]}${edge}`;
      row.by.set(key, (row.by.get(key) ?? 0) + 1);
    }
    rows.set(full.group[n]!, row);
  }
  console.log(`heap snapshot    ${per(total)} per socket (objects gone once the sockets closed)\n`);
  console.log('objects/socket  bytes/socket  what  <- held by (share)');
  const sorted = [...rows].sort((x, y) => y[1].bytes - x[1].bytes);
  for (const [key, r] of sorted.slice(0, Number(values.top))) {
    const by = [...r.by]
      .sort((x, y) => y[1] - x[1])
      .slice(0, 3)
      .map(([k, c]) => `${k} (${(c / r.count).toFixed(2)})`)
      .join(', ');
    console.log(
      `${(r.count / added).toFixed(2).padStart(14)}  ${(r.bytes / added).toFixed(0).padStart(12)}  ${key}  <- ${by}`,
    );
  }
} finally {
  await Promise.all(clients.map((c) => c.stop()));
  await server.stop();
  await redis?.dispose();
  rmSync(dir, { recursive: true, force: true });
}

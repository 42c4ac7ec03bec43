/**
 * Fleetwire against its peers, one server after another with the same client processes:
 *
 *   bash load-tests/peers/run.sh [--quick] [--peers raw-uws,fleetwire] [--workloads fanout,idle]
 *     [--repeat N] [--syscalls] [--edge dist/main.js] [--workers N] [--out RESULTS.md]
 *
 * Workloads: idle, fanout, storm, cross (every server) and e2e (Fleetwire only); all by default.
 *
 * Prints the table and writes RESULTS.md (machine, date, HEAD). Redis comes from
 * @fleetwire/testkit (a local redis-server); the end-to-end row also starts Kafka and PostgreSQL.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

import { LocalRedis } from '@fleetwire/testkit';
import { Redis } from 'ioredis';

import { endToEnd, type EndToEndResult } from './e2e.js';
import { fmt, table, type Measure } from './report.js';
import { EDGE_MAIN, peers, type PeerName } from './servers.js';
import { FULL, QUICK, cross, fanout, idle, storm } from './workloads.js';

const WORKLOADS = ['idle', 'fanout', 'storm', 'cross', 'e2e'] as const;
type Workload = (typeof WORKLOADS)[number];

const { values } = parseArgs({
  args: process.argv.slice(2).filter((arg) => arg !== '--'),
  options: {
    quick: { type: 'boolean', default: false },
    peers: { type: 'string' },
    workloads: { type: 'string' },
    centrifugo: { type: 'string' },
    /** Another build of the edge, e.g. an older commit's services/edge/dist/main.js. */
    edge: { type: 'string' },
    /**
     * The edge's FLEETWIRE_WORKERS. Default 1, not the edge's own default (the usable cores): the
     * other servers run one thread, and the clients share this machine's cores.
     */
    workers: { type: 'string', default: '1' },
    /** Rounds of every workload (peers alternate within a round); cells show median and range. */
    repeat: { type: 'string', default: '1' },
    /**
     * Also count the fan-out's socket writes per delivery under strace (a separate run), for
     * raw uWS and Fleetwire: the servers that write once per delivery take minutes under strace.
     */
    syscalls: { type: 'boolean', default: false },
    out: { type: 'string', default: fileURLToPath(new URL('./RESULTS.md', import.meta.url)) },
  },
});

const sizes = values.quick ? QUICK : FULL;
const wanted = (values.workloads?.split(',') ?? [...WORKLOADS]) as Workload[];
const unknown = wanted.filter((w) => !(WORKLOADS as readonly string[]).includes(w));
if (unknown.length > 0)
  throw new Error(`unknown workloads ${unknown.join(', ')}: ${WORKLOADS.join(', ')}`);
const centrifugoBinary =
  values.centrifugo && existsSync(values.centrifugo) ? values.centrifugo : undefined;
const rounds = Math.max(1, Number(values.repeat));
const edgeWorkers = Math.max(1, Number(values.workers));
const chosen = peers(centrifugoBinary, values.edge ?? EDGE_MAIN, edgeWorkers).filter(
  (p) => !values.peers || values.peers.split(',').includes(p.name),
);
if (!centrifugoBinary) console.warn('no Centrifugo binary (--centrifugo): its column stays empty');

const measures: Record<string, Measure> = {
  idleRss: { label: '', values: {}, format: fmt.bytes, better: 'lower' },
  idleRedis: { label: '', values: {}, format: fmt.bytes, better: 'lower', noRatio: true },
  restWritesNone: { label: '', values: {}, format: fmt.perSec, better: 'lower', noRatio: true },
  restWritesFirst: { label: '', values: {}, format: fmt.perSec, better: 'lower', noRatio: true },
  restWritesAll: { label: '', values: {}, format: fmt.perSec, better: 'lower', noRatio: true },
  fanout: { label: '', values: {}, format: fmt.perSec, better: 'higher' },
  fanoutWrites: { label: '', values: {}, format: fmt.plain, better: 'lower' },
  storm: { label: '', values: {}, format: fmt.perSec, better: 'higher' },
  stormCpu: { label: '', values: {}, format: fmt.micros, better: 'lower' },
  stormWarm: { label: '', values: {}, format: fmt.perSec, better: 'higher' },
  stormWarmCpu: { label: '', values: {}, format: fmt.micros, better: 'lower' },
  stormRedisCpu: { label: '', values: {}, format: fmt.micros, better: 'lower', noRatio: true },
  stormRedisCommands: { label: '', values: {}, format: fmt.plain, better: 'lower', noRatio: true },
  stormRedisReads: { label: '', values: {}, format: fmt.plain, better: 'lower', noRatio: true },
  stormWrites: { label: '', values: {}, format: fmt.plain, better: 'lower' },
  crossP50: { label: '', values: {}, format: fmt.ms, better: 'lower' },
  crossP99: { label: '', values: {}, format: fmt.ms, better: 'lower' },
};
measures['idleRss']!.label =
  `idle authenticated socket: server RSS per socket, ${Math.round(sizes.idleSockets / 3).toLocaleString('en')} → ${sizes.idleSockets.toLocaleString('en')} (Node servers: young generation fixed at 32 MiB, read after a full GC)`;
measures['idleRedis']!.label = 'idle socket: Redis bytes per socket';
for (const [key, count] of [
  ['restWritesNone', 0],
  ['restWritesFirst', Math.round(sizes.idleSockets / 3)],
  ['restWritesAll', sizes.idleSockets],
] as const) {
  measures[key]!.label = `Redis writes/s at rest, ${count.toLocaleString('en')} idle devices`;
}
measures['fanout']!.label =
  `fan-out 1 → ${sizes.fanoutSubscribers.toLocaleString('en')} subs, ${sizes.fanoutMessages.toLocaleString('en')} msgs: deliveries/s`;
measures['fanoutWrites']!.label =
  'fan-out: server socket writes per 1,000 deliveries (strace, separate run)';
measures['storm']!.label =
  `connect storm ${sizes.stormConnects.toLocaleString('en')} JWTs, conc. ${sizes.stormConcurrency}: upgrades/s`;
measures['stormCpu']!.label = 'connect storm: server CPU per upgrade (user + system)';
measures['stormRedisCpu']!.label = 'connect storm: Redis CPU per upgrade';
measures['stormRedisCommands']!.label = 'connect storm: Redis commands per upgrade';
measures['stormRedisReads']!.label = 'connect storm: Redis read events per upgrade';
measures['stormWarm']!.label =
  'connect storm, a second one on the same process (warmed up, the first one’s sockets open): upgrades/s';
measures['stormWarmCpu']!.label = 'connect storm, the second one: server CPU per upgrade';
measures['stormWrites']!.label =
  'connect storm: server socket writes per upgrade (strace, separate run)';
measures['crossP50']!.label =
  `cross-node p50, ${sizes.crossSubscribers} subs on B, ${sizes.crossRate} msg/s on A`;
measures['crossP99']!.label = 'cross-node p99 (same run)';

const lostNote = (lost: number): string | undefined => (lost === 0 ? undefined : `${lost} lost`);
const failedNote = (n: number): string | undefined => (n === 0 ? undefined : `${n} failed`);

function record(key: string, peer: PeerName, value: number, note?: string): void {
  const entry = (measures[key]!.values[peer] ??= { samples: [], notes: [] });
  entry.samples.push(value);
  if (note) entry.notes.push(note);
  console.log(
    `  ${peer} ${measures[key]!.label}: ${measures[key]!.format(value)}${note ? ` (${note})` : ''}`,
  );
}

// The machine is shared: its load before and after tells how far to trust one run.
const loadBefore = loadavg()[0]!;
const redis = await LocalRedis.launch();
const redisClient = new Redis(redis.url);
const started = Date.now();
let e2e: EndToEndResult | undefined;
try {
  for (const workload of wanted) {
    if (workload === 'e2e') continue;
    for (let round = 0; round < rounds; round++) {
      for (const peer of chosen) {
        console.log(`${workload}: ${peer.name}${rounds > 1 ? ` (round ${round + 1})` : ''}`);
        await redisClient.flushall();
        try {
          if (workload === 'idle') {
            const r = await idle(peer, sizes, redis.url);
            record('idleRss', peer.name, r.rssBytesPerSocket, failedNote(r.failed));
            record('idleRedis', peer.name, r.redisBytesPerSocket);
            if (r.restWrites) {
              record('restWritesNone', peer.name, r.restWrites.none);
              record('restWritesFirst', peer.name, r.restWrites.first);
              record('restWritesAll', peer.name, r.restWrites.all);
            }
          } else if (workload === 'fanout') {
            const r = await fanout(peer, sizes, redis.url);
            record('fanout', peer.name, r.deliveriesPerSec, lostNote(r.lost));
          } else if (workload === 'storm') {
            const r = await storm(peer, sizes, redis.url);
            record('storm', peer.name, r.upgradesPerSec, failedNote(r.failed));
            record('stormCpu', peer.name, r.cpuMicrosPerUpgrade);
            record('stormWarm', peer.name, r.warm.upgradesPerSec, failedNote(r.warm.failed));
            record('stormWarmCpu', peer.name, r.warm.cpuMicrosPerUpgrade);
            if (peer.name !== 'raw-uws') {
              record('stormRedisCpu', peer.name, r.redisCpuMicrosPerUpgrade);
              record('stormRedisCommands', peer.name, r.redisCommandsPerUpgrade);
              record('stormRedisReads', peer.name, r.redisReadsPerUpgrade);
            }
          } else if (workload === 'cross') {
            const r = await cross(peer, sizes, redis.url);
            record('crossP50', peer.name, r.p50Ms, lostNote(r.lost));
            record('crossP99', peer.name, r.p99Ms);
          }
        } catch (error) {
          console.error(`  ${peer.name} ${workload} failed: ${String(error)}`);
        }
      }
    }
    if (workload === 'storm' && values.syscalls) {
      for (const peer of chosen.filter((p) => p.name === 'raw-uws' || p.name === 'fleetwire')) {
        console.log(`storm under strace: ${peer.name}`);
        const r = await storm(peer, sizes, redis.url, true);
        record('stormWrites', peer.name, r.writesPerUpgrade ?? Number.NaN);
      }
    }
    if (workload === 'fanout' && values.syscalls) {
      for (const peer of chosen.filter((p) => p.name === 'raw-uws' || p.name === 'fleetwire')) {
        console.log(`fanout under strace: ${peer.name}`);
        const r = await fanout(peer, sizes, redis.url, true);
        record('fanoutWrites', peer.name, r.writesPerThousand ?? Number.NaN);
      }
    }
  }
  if (wanted.includes('e2e') && chosen.some((p) => p.name === 'fleetwire')) {
    console.log('end-to-end telemetry: fleetwire');
    e2e = await endToEnd(values.quick);
  }
} finally {
  redisClient.disconnect();
  await redis.dispose();
}

const head = execFileSync('git', ['rev-parse', '--short', 'HEAD']).toString().trim();
const machine = `${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}, ${process.platform}`;
const shown = Object.values(measures).filter((m) => Object.keys(m.values).length > 0);
const e2eText = e2e
  ? [
      '## End to end (Fleetwire only)',
      '',
      'Devices → edge → Kafka → ingest → PostgreSQL, 50 devices, telemetry with ids at stepped ' +
        `rates, 5 s each; the acked rate of the highest step that kept up (≥ 99 % acked, at ≥ 90 % ` +
        `of the offered rate) with 0 lost: **${fmt.perSec(e2e.bestRate)}**.`,
      '',
      '| offered | acked rate | sent | acked | nacked | in PostgreSQL | lost |',
      '|---|---|---|---|---|---|---|',
      ...e2e.steps.map(
        (s) =>
          `| ${fmt.perSec(s.offered)} | ${fmt.perSec(s.ackedPerSec)} | ${s.sent} | ${s.acked} | ` +
          `${s.nacked} | ${s.stored} | ${s.lost} |`,
      ),
    ].join('\n')
  : 'End to end: not run.';
const text = [
  '# Peer benchmark',
  '',
  `Run ${new Date(started).toISOString()} on ${machine}; HEAD ${head}; ` +
    `${values.quick ? '`--quick` sizes' : 'full sizes'}; Fleetwire with ${edgeWorkers} worker(s); ${rounds} round(s), cells are median (range); ` +
    `${((Date.now() - started) / 1000).toFixed(0)} s; load average ${loadBefore.toFixed(1)} before, ` +
    `${loadavg()[0]!.toFixed(1)} after.`,
  '',
  table(shown),
  '',
  e2eText,
  '',
].join('\n');
console.log(`\n${text}`);
writeFileSync(values.out, text);
console.log(`written: ${values.out}`);

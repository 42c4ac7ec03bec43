/**
 * The chaos suite: a fleet of SDK devices (@fleetwire/client, reliable telemetry with ids) on the
 * local cluster through HAProxy while each part is killed and restarted in turn. Per fault:
 * reconnect time, acked ids stored exactly once (PostgreSQL count by msg id), detection and
 * recovery of health (HAProxy, /readyz, fleetwire_dependency_up, ingest readiness), other
 * processes alive, memory, log lines. See README.md beside this file.
 */
import { randomBytes } from 'node:crypto';

import { FleetwireClient } from '../../packages/client/src/index.js';
import { mintToken, type TokenIssuer } from '../../infra/deploy-tests/src/tokens.js';
import { ChaosCluster, rssMb, type Part } from './cluster.js';
import { WebSocket, pg } from './deps.js';
import {
  explainMissing,
  explanationReport,
  storedNow,
  type AckedId,
  type Explanation,
} from './explain.js';

export type FaultKind = 'none' | 'edge' | 'ingest' | 'redis' | 'kafka' | 'postgres';

export interface Fault {
  label: string;
  kind: FaultKind;
  target?: Part;
  signal?: 'KILL' | 'TERM';
}

export const FAULTS: Fault[] = [
  { label: 'baseline (no fault)', kind: 'none' },
  { label: 'edge-1 SIGKILL', kind: 'edge', target: 'edge-1', signal: 'KILL' },
  { label: 'ingest-1 SIGKILL', kind: 'ingest', target: 'ingest-1', signal: 'KILL' },
  { label: 'Redis SIGKILL', kind: 'redis', target: 'redis', signal: 'KILL' },
  { label: 'Kafka SIGKILL', kind: 'kafka', target: 'kafka', signal: 'KILL' },
  { label: 'PostgreSQL SIGKILL', kind: 'postgres', target: 'postgres', signal: 'KILL' },
  { label: 'edge-2 SIGTERM', kind: 'edge', target: 'edge-2', signal: 'TERM' },
];

export interface ChaosOptions {
  devices: number;
  /** Each device sends one telemetry message with an id this often. */
  telemetryEveryMs: number;
  /** How long a killed part stays down before it is started again. */
  outageMs: number;
  drainWindowMs: number;
  /** Bound on health flipping after a fault (dependency metric, ingest readiness). */
  detectBoundMs: number;
  /** Bound on everything being back after the restart (devices, readiness, metrics). */
  recoverBoundMs: number;
  /** Bound on the phase's messages being acked, then stored, after recovery. */
  storeBoundMs: number;
  /**
   * Acked ids still missing at the end that are in Kafka but not consumed yet (the ingest
   * behind): how much longer they are waited for before they count as lost.
   */
  lagBoundMs: number;
  /**
   * A check of the look-up itself: after the run, this many stored ids of each phase and one id
   * never sent are looked up as if missing, and the answers printed (not counted).
   */
  explainSample: number;
  /** RSS growth of a process over a phase above this (MB, and 50 %) fails the phase. */
  memoryBoundMb: number;
  /**
   * Lines the edges and workers may write in one phase (issue 17: repeated failures logged once
   * per interval with a count); above it the phase fails with the most frequent line.
   */
  logLinesBound: number;
  ingests: number;
  faults: Fault[];
  env: NodeJS.ProcessEnv;
  log: (line: string) => void;
  /** Set by the caller (Ctrl-C, deadline): the run stops at the next step and cleans up. */
  signal: AbortSignal;
}

export interface PhaseResult {
  fault: string;
  /** Devices whose connection dropped during the phase, and the slowest one's time back. */
  dropped: number;
  reconnectS: number | undefined;
  sent: number;
  acked: number;
  unacked: number;
  lost: number;
  /** Acked ids stored only after the bound (found by the look-up at the end): late, not lost. */
  late: number;
  dup: number;
  detectionS: number | undefined;
  detectionWhat: string;
  backS: number | undefined;
  logLines: number;
  topLog: string;
  rssDeltaMb: number;
  failures: string[];
  notes: string[];
}

interface Sample {
  t: number;
  edgeReady: Map<string, boolean>;
  /** The edge's /readyz status, or undefined when it did not answer within the probe's 1.5 s. */
  edgeStatus: Map<string, number | undefined>;
  /** fleetwire_dependency_up per edge: dependency → value. */
  edgeDeps: Map<string, Map<string, number>>;
  ingestReady: Map<string, boolean>;
  ingestReason: Map<string, string>;
  ingestRebalances: Map<string, number>;
  haproxy: Map<string, string>;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function get(url: string): Promise<{ status: number; body: string } | undefined> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(1500) });
    return { status: response.status, body: await response.text() };
  } catch {
    return undefined;
  }
}

function metricValues(text: string, name: string): { labels: string; value: number }[] {
  const out: { labels: string; value: number }[] = [];
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    const match = /^[a-z_]+(\{[^}]*\})?\s+(\S+)/.exec(line);
    if (match) out.push({ labels: match[1] ?? '', value: Number(match[2]) });
  }
  return out;
}

/** Polls every process's health every 250 ms into a timeline, until stopped. */
class Prober {
  readonly samples: Sample[] = [];
  private running = true;
  private readonly done: Promise<void>;

  constructor(private readonly cluster: ChaosCluster) {
    this.done = this.loop();
  }

  latest(): Sample | undefined {
    return this.samples[this.samples.length - 1];
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.done;
  }

  private async loop(): Promise<void> {
    while (this.running) {
      const started = Date.now();
      this.samples.push(await this.sample());
      await sleep(Math.max(0, 250 - (Date.now() - started)));
    }
  }

  private async sample(): Promise<Sample> {
    const c = this.cluster;
    const s: Sample = {
      t: Date.now(),
      edgeReady: new Map(),
      edgeStatus: new Map(),
      edgeDeps: new Map(),
      ingestReady: new Map(),
      ingestReason: new Map(),
      ingestRebalances: new Map(),
      haproxy: new Map(),
    };
    await Promise.all([
      ...c.edgeNames.map(async (name, i) => {
        const base = `http://127.0.0.1:${c.edgePorts[i]}`;
        const [ready, metrics] = await Promise.all([get(`${base}/readyz`), get(`${base}/metrics`)]);
        s.edgeReady.set(name, ready?.status === 200);
        s.edgeStatus.set(name, ready?.status);
        if (metrics?.status === 200) {
          const deps = new Map<string, number>();
          for (const m of metricValues(metrics.body, 'fleetwire_dependency_up')) {
            const dep = /dependency="([^"]+)"/.exec(m.labels)?.[1];
            if (dep) deps.set(dep, m.value);
          }
          s.edgeDeps.set(name, deps);
        }
      }),
      ...c.ingestNames.map(async (name, i) => {
        const base = `http://127.0.0.1:${c.ingestPorts[i]}`;
        const [ready, metrics] = await Promise.all([get(`${base}/readyz`), get(`${base}/metrics`)]);
        s.ingestReady.set(name, ready?.status === 200);
        if (ready && ready.status !== 200) s.ingestReason.set(name, ready.body.slice(0, 300));
        if (metrics?.status === 200) {
          const total = metricValues(metrics.body, 'fleetwire_ingest_rebalances_total').reduce(
            (sum, m) => sum + m.value,
            0,
          );
          s.ingestRebalances.set(name, total);
        }
      }),
      (async () => {
        const stats = await get(`http://127.0.0.1:${c.statsPort}/stats;csv`);
        for (const line of stats?.body.split('\n') ?? []) {
          const cols = line.split(',');
          if (cols[0] === 'edges' && cols[1]?.startsWith('edge-'))
            s.haproxy.set(cols[1], cols[17]!);
        }
      })(),
    ]);
    return s;
  }
}

/** Seconds from `from` to the first sample at or after it where `check` holds. */
function firstAfter(
  samples: Sample[],
  from: number,
  check: (s: Sample) => boolean,
): number | undefined {
  const hit = samples.find((s) => s.t >= from && check(s));
  return hit === undefined ? undefined : (hit.t - from) / 1000;
}

function maxOf(values: (number | undefined)[]): number | undefined {
  if (values.some((v) => v === undefined)) return undefined;
  return Math.max(...(values as number[]));
}

interface Sent {
  phase: number;
  acked: boolean;
  ackedAt?: number;
  /** The edge the device was connected to when the ack came. */
  ackedBy?: string | undefined;
}

export async function runChaos(options: ChaosOptions): Promise<{
  results: PhaseResult[];
  /** Where each acked id missing at the end was last seen (explain.ts). */
  explanations: Explanation[];
  stateDir: string;
}> {
  const { log } = options;
  const startedAt = Date.now();
  const cluster = await ChaosCluster.start({
    edges: 2,
    ingests: options.ingests,
    drainWindowMs: options.drainWindowMs,
    env: options.env,
  });
  log(`cluster up in ${((Date.now() - startedAt) / 1000).toFixed(0)} s (${cluster.stateDir})`);
  const prober = new Prober(cluster);
  const tenant = `chaos-${randomBytes(4).toString('hex')}`;
  const issuer: TokenIssuer = {
    secret: cluster.jwtSecret,
    issuer: cluster.jwtIssuer,
    audience: cluster.jwtAudience,
  };
  const ca = cluster.ca;
  class ClusterWebSocket extends WebSocket {
    constructor(url: string, protocols?: string | string[]) {
      super(url, protocols, { ca });
    }
  }
  const clients: FleetwireClient[] = [];
  // Per device: the times its connection went down and came back (welcome).
  const downs: { device: number; t: number }[] = [];
  // Per device: the edge it is connected to (its last welcome's node).
  const nodeOf: (string | undefined)[] = [];
  const ups: { device: number; t: number }[] = [];
  const sent = new Map<string, Sent>();
  let phase = 0;
  let sending = true;
  let keep = false;
  const results: PhaseResult[] = [];
  const aborted = (): boolean => options.signal.aborted;
  try {
    for (let i = 0; i < options.devices; i++) {
      const id = `dev-${String(i).padStart(5, '0')}`;
      const client = new FleetwireClient({
        url: cluster.url,
        token: () => mintToken(issuer, { sub: id, role: 'device', tenant }),
        WebSocket: ClusterWebSocket as never,
        ackTimeoutMs: 2000,
        backoff: { initialDelayMs: 250, maxDelayMs: 2000 },
      });
      client.on('welcome', (welcome) => {
        nodeOf[i] = welcome.node;
        ups.push({ device: i, t: Date.now() });
      });
      client.on('close', () => downs.push({ device: i, t: Date.now() }));
      clients.push(client);
    }
    for (let i = 0; i < clients.length; i += 50)
      await Promise.all(clients.slice(i, i + 50).map((c) => c.connect()));
    log(`${clients.length} devices connected through HAProxy`);
    const senders = clients.map(async (client, i) => {
      const device = `dev-${String(i).padStart(5, '0')}`;
      await sleep((i * options.telemetryEveryMs) / clients.length);
      let seq = 0;
      while (sending) {
        const msgId = `${device}-${seq++}`;
        const record: Sent = { phase, acked: false };
        sent.set(msgId, record);
        client.telemetry({ seq }, { id: msgId }).then(
          () => {
            record.acked = true;
            record.ackedAt = Date.now();
            record.ackedBy = nodeOf[i];
          },
          () => {},
        );
        await sleep(options.telemetryEveryMs);
      }
    });
    const parts = (): Part[] => [
      ...cluster.edgeNames,
      ...cluster.ingestNames,
      'haproxy',
      'redis',
      'postgres',
      'kafka',
    ];
    const services = [...cluster.edgeNames, ...cluster.ingestNames];
    const healthy = (s: Sample | undefined): boolean =>
      s !== undefined &&
      cluster.edgeNames.every(
        (e) =>
          s.edgeReady.get(e) === true &&
          s.haproxy.get(e) === 'UP' &&
          s.edgeDeps.get(e)?.get('redis') === 1 &&
          s.edgeDeps.get(e)?.get('kafka') === 1,
      ) &&
      cluster.ingestNames.every((n) => s.ingestReady.get(n) === true);
    const allConnected = (): boolean => clients.every((c) => c.state === 'connected');

    for (const [index, fault] of options.faults.entries()) {
      if (aborted()) break;
      phase = index;
      log(`— ${fault.label}`);
      const pidsBefore = new Map(parts().map((p) => [p, cluster.pid(p)]));
      const rssBefore = new Map(services.map((p) => [p, rssMb(cluster.pid(p))]));
      const logBefore = new Map(services.map((p) => [p, cluster.logSize(p)]));
      const rebalancesBefore = new Map(prober.latest()?.ingestRebalances ?? []);
      const failures: string[] = [];
      const notes: string[] = [];
      const faultAt = Date.now();
      let restartAt = faultAt;
      if (fault.target && fault.signal) {
        await cluster.signal(fault.target, fault.signal);
        if (fault.signal === 'TERM') {
          // A drain: the edge closes its connections over the drain window, then exits.
          const limit = Date.now() + options.drainWindowMs + 20_000;
          while (cluster.pid(fault.target) !== undefined && Date.now() < limit) await sleep(100);
          notes.push(`drained and exited in ${((Date.now() - faultAt) / 1000).toFixed(1)} s`);
        }
        await sleep(Math.max(0, faultAt + options.outageMs - Date.now()));
        restartAt = Date.now();
        try {
          await cluster.startPart(fault.target);
        } catch (error) {
          failures.push(`${fault.target} did not come back: ${String(error).slice(0, 300)}`);
        }
        notes.push(`restart ${((Date.now() - restartAt) / 1000).toFixed(1)} s`);
      } else {
        await sleep(options.outageMs);
      }
      const recoverLimit = Date.now() + options.recoverBoundMs;
      while (!(allConnected() && healthy(prober.latest())) && Date.now() < recoverLimit)
        await sleep(100);
      if (!allConnected())
        failures.push(
          `${clients.filter((c) => c.state !== 'connected').length} devices not connected ${options.recoverBoundMs / 1000} s after the restart`,
        );
      if (!healthy(prober.latest()))
        failures.push(`not healthy again: ${describe(prober.latest())}`);
      await sleep(1000);
      const phaseEnd = Date.now();
      phase = index + 1;

      // Processes: none but the target died or was replaced; memory of the others.
      for (const p of parts()) {
        const now = cluster.pid(p);
        if (p === fault.target) {
          if (now === undefined) failures.push(`${p} not running after its restart`);
        } else if (now === undefined || now !== pidsBefore.get(p)) {
          failures.push(
            `${p} crashed or was replaced (pid ${pidsBefore.get(p)} → ${now ?? 'gone'})`,
          );
        }
      }
      let rssDeltaMb = 0;
      for (const p of services) {
        if (p === fault.target) continue;
        const before = rssBefore.get(p);
        const after = rssMb(cluster.pid(p));
        if (before === undefined || after === undefined) continue;
        const delta = after - before;
        if (Math.abs(delta) > Math.abs(rssDeltaMb)) rssDeltaMb = delta;
        if (delta > options.memoryBoundMb && after > before * 1.5)
          failures.push(`${p} RSS ${before.toFixed(0)} → ${after.toFixed(0)} MB`);
      }
      // Log lines the services wrote in the phase, and the most frequent message.
      let logLines = 0;
      const byMsg = new Map<string, number>();
      for (const p of services) {
        for (const line of cluster.logLinesSince(p, logBefore.get(p) ?? 0)) {
          if (line.startsWith('[fleetwire] ---- ')) continue; // cluster.sh's restart marker
          logLines++;
          let msg = line.slice(0, 80);
          try {
            const parsed = JSON.parse(line) as { msg?: unknown; level?: unknown };
            msg = `${String(parsed.level)} ${String(parsed.msg)}`;
          } catch {
            // not JSON: the raw start of the line
          }
          const key = `${p.replace(/-\d+$/, '')}: ${msg}`;
          byMsg.set(key, (byMsg.get(key) ?? 0) + 1);
        }
      }
      const top = [...byMsg.entries()].sort((a, b) => b[1] - a[1])[0];
      const topLog = top ? `${top[0].slice(0, 140)} ×${top[1]}` : '';
      if (logLines > options.logLinesBound)
        failures.push(
          `${logLines} log lines in the phase (bound ${options.logLinesBound}); most frequent: ${topLog}`,
        );

      // Health: detection and recovery per kind, and what had to stay up.
      const samples = prober.samples.filter((s) => s.t >= faultAt && s.t <= phaseEnd);
      const survivingEdges = cluster.edgeNames.filter((e) => e !== fault.target);
      for (const e of survivingEdges) {
        const notReady = samples.filter((s) => s.edgeReady.get(e) === false);
        if (notReady.length > 0) {
          // Which: a status other than 200, or no answer in time (a busy event loop).
          const unanswered = notReady.filter((s) => s.edgeStatus.get(e) === undefined).length;
          failures.push(
            `${e} /readyz not 200 in ${notReady.length} of ${samples.length} probes (${unanswered} unanswered within 1.5 s, ${notReady.length - unanswered} answered otherwise)`,
          );
        }
      }
      let detectionS: number | undefined;
      let detectionWhat = '';
      let backS: number | undefined;
      const bound = options.detectBoundMs / 1000;
      const depFlip = (dep: string): void => {
        detectionWhat = `edges' dependency_up{${dep}} 0`;
        const per = cluster.edgeNames.map((e) =>
          firstAfter(samples, faultAt, (s) => s.edgeDeps.get(e)?.get(dep) === 0),
        );
        detectionS = maxOf(per);
        per.forEach((v, i) => {
          if (v === undefined || v > bound)
            failures.push(
              `${cluster.edgeNames[i]} dependency_up{${dep}} ${v === undefined ? 'never 0' : `0 only after ${v} s`}`,
            );
        });
        backS = maxOf(
          cluster.edgeNames.map((e) =>
            firstAfter(samples, restartAt, (s) => s.edgeDeps.get(e)?.get(dep) === 1),
          ),
        );
        if (backS === undefined) failures.push(`dependency_up{${dep}} not back to 1`);
      };
      const ingestFlip = (primary: boolean): void => {
        const per = cluster.ingestNames.map((n) =>
          firstAfter(samples, faultAt, (s) => s.ingestReady.get(n) === false),
        );
        const flipped = maxOf(per);
        per.forEach((v, i) => {
          if (v === undefined || v > bound)
            failures.push(
              `${cluster.ingestNames[i]} /readyz ${v === undefined ? 'stayed 200' : `503 only after ${v} s`}`,
            );
        });
        const back = maxOf(
          cluster.ingestNames.map((n) =>
            firstAfter(samples, restartAt, (s) => s.ingestReady.get(n) === true),
          ),
        );
        const reason = [...new Set(samples.flatMap((s) => [...s.ingestReason.values()]))][0];
        notes.push(
          `ingest /readyz 503 after ${flipped ?? '—'} s, 200 again ${back ?? '—'} s after restart${reason ? `; reason: ${reason.replace(/\s+/g, ' ').slice(0, 160)}` : ''}`,
        );
        if (primary) {
          detectionS = flipped;
          detectionWhat = 'ingest /readyz 503';
          backS = back;
        }
      };
      switch (fault.kind) {
        case 'edge': {
          detectionWhat = 'HAProxy: server DOWN';
          detectionS = firstAfter(samples, faultAt, (s) => s.haproxy.get(fault.target!) !== 'UP');
          backS = firstAfter(samples, restartAt, (s) => s.haproxy.get(fault.target!) === 'UP');
          break;
        }
        case 'ingest': {
          const survivor = cluster.ingestNames.find((n) => n !== fault.target);
          if (survivor) {
            detectionWhat = `${survivor} rebalanced (took the partitions)`;
            detectionS = firstAfter(
              samples,
              faultAt,
              (s) =>
                (s.ingestRebalances.get(survivor) ?? 0) > (rebalancesBefore.get(survivor) ?? 0),
            );
          }
          backS = firstAfter(samples, restartAt, (s) => s.ingestReady.get(fault.target!) === true);
          break;
        }
        case 'redis':
          depFlip('redis');
          break;
        case 'kafka':
          depFlip('kafka');
          ingestFlip(false);
          break;
        case 'postgres':
          ingestFlip(true);
          break;
        case 'none':
          break;
      }
      if (fault.kind !== 'edge' && fault.kind !== 'none') {
        // A dependency fault must not have taken any edge out of the load balancer.
        for (const e of cluster.edgeNames) {
          if (samples.some((s) => s.haproxy.has(e) && s.haproxy.get(e) !== 'UP'))
            failures.push(`${e} left HAProxy during the ${fault.kind} fault`);
        }
      }

      // Reconnects: devices whose connection dropped after the fault, and the slowest back.
      const droppedAt = new Map<number, number>();
      for (const d of downs)
        if (d.t >= faultAt && d.t <= phaseEnd && !droppedAt.has(d.device))
          droppedAt.set(d.device, d.t);
      let reconnectS: number | undefined = 0;
      for (const [device, t] of droppedAt) {
        const up = ups.find((u) => u.device === device && u.t >= t);
        if (!up) reconnectS = undefined;
        else if (reconnectS !== undefined)
          reconnectS = Math.max(reconnectS, (up.t - faultAt) / 1000);
      }

      // Every message of the phase acked (the SDK resends until it is), then stored once.
      const mine = [...sent.entries()].filter(([, r]) => r.phase === index);
      const ackLimit = Date.now() + options.storeBoundMs;
      while (mine.some(([, r]) => !r.acked) && Date.now() < ackLimit && !aborted())
        await sleep(200);
      const ackedIds = mine.filter(([, r]) => r.acked).map(([id]) => id);
      const counts = await storedCounts(
        cluster.databaseUrl,
        tenant,
        ackedIds,
        Date.now() + options.storeBoundMs,
      );
      const lost = ackedIds.filter((id) => (counts.get(id) ?? 0) === 0).length;
      const dup = ackedIds.filter((id) => (counts.get(id) ?? 0) > 1).length;
      const result: PhaseResult = {
        fault: fault.label,
        dropped: droppedAt.size,
        reconnectS,
        sent: mine.length,
        acked: ackedIds.length,
        unacked: mine.length - ackedIds.length,
        lost,
        late: 0,
        dup,
        detectionS,
        detectionWhat,
        backS,
        logLines,
        topLog,
        rssDeltaMb,
        failures,
        notes,
      };
      if (result.unacked > 0)
        notes.push(`${result.unacked} sent in the phase not acked within the bound`);
      results.push(result);
      log(
        `  reconnect ${reconnectS ?? '—'} s (${droppedAt.size} dropped), acked ${result.acked}/${result.sent}, lost ${lost}, dup ${dup}, detection ${detectionS ?? '—'} s (${detectionWhat || '—'}), back ${backS ?? '—'} s, log lines ${logLines}${topLog ? ` (top: ${topLog})` : ''}`,
      );
      for (const n of notes) log(`  note: ${n}`);
      for (const f of failures) log(`  FAIL: ${f}`);
    }

    // Stop sending; a last look at every id of the run (a late duplicate would show here).
    sending = false;
    await Promise.all(senders);
    const all = [...sent.entries()].filter(([, r]) => r.acked).map(([id]) => id);
    const counts = await storedCounts(
      cluster.databaseUrl,
      tenant,
      all,
      Date.now() + options.storeBoundMs,
    );
    // Every acked id still missing: where was it last seen? (and is it only late?)
    const missing: AckedId[] = all
      .filter((id) => (counts.get(id) ?? 0) === 0)
      .map((id) => {
        const r = sent.get(id)!;
        return {
          id,
          phase: options.faults[r.phase]?.label ?? `after the last phase`,
          ackedBy: r.ackedBy,
          ackedAt: r.ackedAt ?? 0,
        };
      });
    const explanations = await explainAll(cluster, tenant, missing, options);
    if (options.explainSample > 0) {
      const sample: AckedId[] = options.faults.flatMap((fault, index) =>
        [...sent.entries()]
          .filter(([id, r]) => r.phase === index && r.acked && counts.has(id))
          .slice(-options.explainSample)
          .map(([id, r]) => ({ id, phase: fault.label, ackedBy: r.ackedBy, ackedAt: r.ackedAt! })),
      );
      sample.push({ id: `${tenant}-never-sent`, phase: '—', ackedBy: undefined, ackedAt: 0 });
      log('look-up check (stored ids and one never sent, as if missing):');
      for (const line of explanationReport(await lookUpIds(cluster, tenant, sample, log)))
        log(line);
    }
    const late = new Set(explanations.filter((e) => e.verdict === 'stored late').map((e) => e.id));
    for (const [index, result] of results.entries()) {
      const ids = [...sent.entries()]
        .filter(([, r]) => r.phase === index && r.acked)
        .map(([id]) => id);
      result.acked = ids.length;
      result.lost = ids.filter((id) => (counts.get(id) ?? 0) === 0 && !late.has(id)).length;
      result.late = ids.filter((id) => late.has(id)).length;
      result.dup = ids.filter((id) => (counts.get(id) ?? 0) > 1).length;
      if (result.late > 0)
        result.notes.push(
          `${result.late} acked ids stored only after the ${options.storeBoundMs / 1000} s bound (the ingest behind)`,
        );
    }
    keep =
      results.some((r) => r.lost > 0 || r.dup > 0 || r.failures.length > 0) ||
      explanations.length > 0 ||
      aborted();
    return { results, explanations, stateDir: cluster.stateDir };
  } catch (error) {
    keep = true;
    throw error;
  } finally {
    sending = false;
    for (const client of clients) client.close();
    await prober.stop();
    if (keep) log(`logs kept in ${cluster.stateDir}`);
    await cluster.stop(keep);
  }
}

/**
 * Looks up every acked id missing at the end (explain.ts). Ids the ingest has not consumed yet
 * are waited for (bounded by `lagBoundMs`, while the rest of the look-up stays as it was), then
 * looked up again: only what is then still not stored is lost.
 */
async function explainAll(
  cluster: ChaosCluster,
  tenant: string,
  missing: AckedId[],
  options: ChaosOptions,
): Promise<Explanation[]> {
  if (missing.length === 0) return [];
  const { log } = options;
  log(`${missing.length} acked ids not in PostgreSQL: looking them up in Kafka and the logs`);
  const lookUp = (): Promise<Explanation[]> => lookUpIds(cluster, tenant, missing, log);
  let explanations = await lookUp();
  const behind = explanations.filter((e) => e.verdict === 'not consumed yet').map((e) => e.id);
  if (behind.length > 0) {
    log(`  ${behind.length} not consumed yet: waiting up to ${options.lagBoundMs / 1000} s`);
    const limit = Date.now() + options.lagBoundMs;
    for (;;) {
      const stored = await storedNow(cluster.databaseUrl, tenant, behind).catch(
        () => new Map<string, number>(),
      );
      if (behind.every((id) => stored.has(id)) || Date.now() > limit || options.signal.aborted)
        break;
      await sleep(2000);
    }
    explanations = await lookUp();
  }
  return explanations;
}

async function lookUpIds(
  cluster: ChaosCluster,
  tenant: string,
  ids: AckedId[],
  log: (line: string) => void,
): Promise<Explanation[]> {
  const { explanations } = await explainMissing(ids, {
    brokers: cluster.kafkaBrokers,
    topic: 'telemetry',
    dlqTopic: 'telemetry.dlq',
    groupId: 'fleetwire-ingest',
    databaseUrl: cluster.databaseUrl,
    tenant,
    logs: new Map(
      [...cluster.edgeNames, ...cluster.ingestNames].map((p) => [p, cluster.logFile(p)]),
    ),
    readBoundMs: 120_000,
    log,
  });
  return explanations;
}

function describe(s: Sample | undefined): string {
  if (!s) return 'no probe yet';
  const parts: string[] = [];
  for (const [e, r] of s.edgeReady) if (!r) parts.push(`${e} not ready`);
  for (const [e, h] of s.haproxy) if (h !== 'UP') parts.push(`${e} ${h} in HAProxy`);
  for (const [e, deps] of s.edgeDeps)
    for (const [d, v] of deps) if (v !== 1) parts.push(`${e} ${d} ${v}`);
  for (const [n, r] of s.ingestReady) if (!r) parts.push(`${n} not ready`);
  return parts.join(', ') || 'ok';
}

/** Rows per msg id of `tenant` among `ids`, polled until each is there or the deadline passes. */
async function storedCounts(
  databaseUrl: string,
  tenant: string,
  ids: string[],
  deadline: number,
): Promise<Map<string, number>> {
  let counts = new Map<string, number>();
  for (;;) {
    const client = new pg.Client({ connectionString: databaseUrl });
    try {
      await client.connect();
      const { rows } = await client.query<{ msg_id: string; n: number }>(
        'select msg_id, count(*)::int as n from telemetry where tenant = $1 and msg_id = any($2::text[]) group by msg_id',
        [tenant, ids],
      );
      counts = new Map(rows.map((r) => [r.msg_id, r.n]));
    } catch {
      // PostgreSQL restarting: asked again
    } finally {
      await client.end().catch(() => {});
    }
    if (ids.every((id) => counts.has(id)) || Date.now() > deadline) return counts;
    await sleep(500);
  }
}

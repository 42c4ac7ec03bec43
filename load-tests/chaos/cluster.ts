/**
 * The local cluster of infra/local/cluster.sh for the chaos suite: 2 edges, 2 ingest workers,
 * Redis, Kafka, PostgreSQL and HAProxy on free ports in a temp state dir. The script's watchdog
 * is tied to this process, so the cluster stops even when the suite dies without cleaning up.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const SCRIPT = fileURLToPath(new URL('../../infra/local/cluster.sh', import.meta.url));

export type Part = string; // edge-N, ingest-N, haproxy, redis, postgres, kafka

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

export interface ClusterOptions {
  edges: number;
  ingests: number;
  drainWindowMs: number;
  /** The machine's PATH, HOME and caches (Kafka jars), passed on to cluster.sh. */
  env: NodeJS.ProcessEnv;
}

export class ChaosCluster {
  readonly edgeNames: string[];
  readonly ingestNames: string[];
  url = '';
  ca = '';
  jwtSecret = '';
  jwtIssuer = '';
  jwtAudience = '';
  databaseUrl = '';
  kafkaBrokers: string[] = [];

  private constructor(
    readonly stateDir: string,
    private readonly env: NodeJS.ProcessEnv,
    readonly edgePorts: number[],
    readonly ingestPorts: number[],
    readonly statsPort: number,
  ) {
    this.edgeNames = edgePorts.map((_, i) => `edge-${i + 1}`);
    this.ingestNames = ingestPorts.map((_, i) => `ingest-${i + 1}`);
  }

  static async start(options: ClusterOptions): Promise<ChaosCluster> {
    const stateDir = mkdtempSync(join(tmpdir(), 'fleetwire-chaos-'));
    const taken = new Set<number>();
    const port = async (): Promise<number> => {
      for (;;) {
        const p = await freePort();
        if (!taken.has(p)) {
          taken.add(p);
          return p;
        }
      }
    };
    const many = async (n: number): Promise<number[]> => {
      const list: number[] = [];
      for (let i = 0; i < n; i++) list.push(await port());
      return list;
    };
    const edgePorts = await many(options.edges);
    const ingestPorts = await many(options.ingests);
    const statsPort = await port();
    const env: NodeJS.ProcessEnv = {
      ...options.env,
      FLEETWIRE_CLUSTER_STATE: stateDir,
      FLEETWIRE_CLUSTER_OWNER_PID: String(process.pid),
      FLEETWIRE_CLUSTER_EDGES: String(options.edges),
      FLEETWIRE_CLUSTER_SPARE_EDGES: '0',
      FLEETWIRE_CLUSTER_INGESTS: String(options.ingests),
      FLEETWIRE_CLUSTER_EDGE_PORTS: edgePorts.join(' '),
      FLEETWIRE_CLUSTER_INGEST_PORTS: ingestPorts.join(' '),
      FLEETWIRE_CLUSTER_HTTPS_PORT: String(await port()),
      FLEETWIRE_CLUSTER_STATS_PORT: String(statsPort),
      FLEETWIRE_CLUSTER_REDIS_PORT: String(await port()),
      FLEETWIRE_CLUSTER_PG_PORT: String(await port()),
      FLEETWIRE_CLUSTER_KAFKA_PORT: String(await port()),
      FLEETWIRE_CLUSTER_KAFKA_CONTROLLER_PORT: String(await port()),
      FLEETWIRE_CLUSTER_DRAIN_WINDOW_MS: String(options.drainWindowMs),
    };
    const cluster = new ChaosCluster(stateDir, env, edgePorts, ingestPorts, statsPort);
    try {
      await cluster.run(['start'], 180_000);
      const vars = new Map<string, string>();
      for (const line of (await cluster.run(['env'], 10_000)).split('\n')) {
        const match = /^export ([A-Z0-9_]+)=(.*)$/.exec(line);
        if (match) vars.set(match[1]!, match[2]!);
      }
      cluster.url = vars.get('FLEETWIRE_CLUSTER_URL') ?? '';
      cluster.ca = readFileSync(vars.get('FLEETWIRE_CLUSTER_CA') ?? '', 'utf8');
      cluster.jwtSecret = vars.get('FLEETWIRE_JWT_HS256_SECRET') ?? '';
      cluster.jwtIssuer = vars.get('FLEETWIRE_JWT_ISSUER') ?? '';
      cluster.jwtAudience = vars.get('FLEETWIRE_JWT_AUDIENCE') ?? '';
      cluster.databaseUrl = vars.get('DATABASE_URL') ?? '';
      cluster.kafkaBrokers = (vars.get('KAFKA_BROKERS') ?? '').split(',').filter(Boolean);
    } catch (error) {
      await cluster.stop(true);
      throw error;
    }
    return cluster;
  }

  run(args: string[], timeoutMs: number): Promise<string> {
    return new Promise((resolve, reject) => {
      execFile(
        'bash',
        [SCRIPT, ...args],
        { env: this.env, timeout: timeoutMs, killSignal: 'SIGKILL', maxBuffer: 8 << 20 },
        (error, stdout, stderr) => {
          if (error) reject(new Error(`cluster.sh ${args.join(' ')} failed:\n${stderr}${stdout}`));
          else resolve(stdout);
        },
      );
    });
  }

  signal(name: Part, signal: 'KILL' | 'TERM'): Promise<string> {
    return this.run([signal === 'KILL' ? 'kill' : 'term', name], 10_000);
  }

  /** Starts a stopped part in its place (its log appended to) and waits until it serves. */
  startPart(name: Part): Promise<string> {
    return this.run(['start', name], 120_000);
  }

  /** The pid of a running part, or undefined. */
  pid(name: Part): number | undefined {
    const backing = ['redis', 'postgres', 'kafka'].includes(name);
    const file = join(this.stateDir, backing ? 'backing' : 'pids', `${name}.pid`);
    try {
      const pid = Number(readFileSync(file, 'utf8').trim());
      process.kill(pid, 0);
      return pid;
    } catch {
      return undefined;
    }
  }

  logFile(name: Part): string {
    return join(this.stateDir, 'logs', `${name}.log`);
  }

  /** Bytes in a part's log (logs are only appended to, so an offset marks a moment). */
  logSize(name: Part): number {
    try {
      return statSync(this.logFile(name)).size;
    } catch {
      return 0;
    }
  }

  /** The lines a part's log gained after `from` bytes. */
  logLinesSince(name: Part, from: number): string[] {
    try {
      const text = readFileSync(this.logFile(name)).subarray(from).toString('utf8');
      return text.split('\n').filter((line) => line.length > 0);
    } catch {
      return [];
    }
  }

  /** Stops every process; the state dir (logs) is kept when `keep` and its path printed. */
  async stop(keep = false): Promise<void> {
    try {
      await this.run(['stop'], 120_000);
    } finally {
      if (!keep) rmSync(this.stateDir, { recursive: true, force: true });
    }
  }
}

/** Resident memory of a process in MB (Linux /proc), or undefined when it is gone. */
export function rssMb(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) / 1024 : undefined;
  } catch {
    return undefined;
  }
}

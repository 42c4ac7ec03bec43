import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { freePort } from '@fleetwire/testkit';

const CLUSTER_SCRIPT = fileURLToPath(new URL('../../local/cluster.sh', import.meta.url));

/** A failure of `infra/local/cluster.sh`, with what it printed. */
export class LocalClusterError extends Error {
  override readonly name = 'LocalClusterError';
  constructor(
    readonly command: string,
    readonly output: string,
    options?: { cause?: unknown },
  ) {
    super(`cluster.sh ${command} failed:\n${output}`, options);
  }
}

export interface LocalClusterOptions {
  edges: number;
  /** Edge slots HAProxy knows but that start stopped (`up` starts one: a rollout's surge pod). */
  spareEdges?: number;
  /** HAProxy's balance algorithm: roundrobin (default), leastconn, random(2)… */
  balance?: string;
  drainWindowMs?: number;
  /** Passed on to cluster.sh: the caches of the machine (Kafka jars), PATH, HOME. */
  env: NodeJS.ProcessEnv;
}

/** What `cluster.sh env` prints, parsed. */
export interface LocalClusterEndpoints {
  /** wss://127.0.0.1:<port>/ws, through HAProxy. */
  url: string;
  /** PEM of the self-signed certificate HAProxy serves. */
  ca: string;
  edgeUrls: string[];
  ingestUrl: string;
  jwtSecret: string;
  jwtIssuer: string;
  jwtAudience: string;
  databaseUrl: string;
}

function run(args: string[], env: NodeJS.ProcessEnv, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      'bash',
      [CLUSTER_SCRIPT, ...args],
      { env, timeout: timeoutMs, killSignal: 'SIGKILL', maxBuffer: 8 * 1024 * 1024 },
      (error, stdout, stderr) => {
        if (error)
          reject(new LocalClusterError(args.join(' '), `${stderr}${stdout}`, { cause: error }));
        else resolve(stdout);
      },
    );
  });
}

/**
 * The local cluster of infra/local/cluster.sh in a temp state dir, on free ports. The script's
 * watchdog is tied to this process, so the cluster is stopped even when the test run dies
 * without reaching stop().
 */
export class LocalCluster {
  private constructor(
    readonly stateDir: string,
    readonly endpoints: LocalClusterEndpoints,
    private readonly env: NodeJS.ProcessEnv,
  ) {}

  static async start(options: LocalClusterOptions): Promise<LocalCluster> {
    const stateDir = mkdtempSync(join(tmpdir(), 'fleetwire-cluster-'));
    // Distinct free ports: the kernel may hand out a port again once it was closed.
    const taken = new Set<number>();
    const ports = async (n: number): Promise<string> => {
      const list: number[] = [];
      while (list.length < n) {
        const port = await freePort();
        if (taken.has(port)) continue;
        taken.add(port);
        list.push(port);
      }
      return list.join(' ');
    };
    const env: NodeJS.ProcessEnv = {
      ...options.env,
      FLEETWIRE_CLUSTER_STATE: stateDir,
      FLEETWIRE_CLUSTER_OWNER_PID: String(process.pid),
      FLEETWIRE_CLUSTER_EDGES: String(options.edges),
      FLEETWIRE_CLUSTER_SPARE_EDGES: String(options.spareEdges ?? 0),
      FLEETWIRE_CLUSTER_BALANCE: options.balance ?? 'roundrobin',
      FLEETWIRE_CLUSTER_INGESTS: '1',
      FLEETWIRE_CLUSTER_EDGE_PORTS: await ports(options.edges + (options.spareEdges ?? 0)),
      FLEETWIRE_CLUSTER_INGEST_PORTS: await ports(1),
      FLEETWIRE_CLUSTER_HTTPS_PORT: await ports(1),
      FLEETWIRE_CLUSTER_STATS_PORT: await ports(1),
      FLEETWIRE_CLUSTER_REDIS_PORT: await ports(1),
      FLEETWIRE_CLUSTER_PG_PORT: await ports(1),
      FLEETWIRE_CLUSTER_KAFKA_PORT: await ports(1),
      FLEETWIRE_CLUSTER_KAFKA_CONTROLLER_PORT: await ports(1),
      FLEETWIRE_CLUSTER_DRAIN_WINDOW_MS: String(options.drainWindowMs ?? 1000),
    };
    const cluster = new LocalCluster(stateDir, emptyEndpoints(), env);
    try {
      await run(['start'], env, 120_000);
      const printed = await run(['env'], env, 10_000);
      Object.assign(cluster.endpoints, parseEnv(printed));
    } catch (error) {
      await cluster.stop();
      throw error;
    }
    return cluster;
  }

  /** SIGKILL to one process of the cluster (`edge-1`, `ingest-1`, `haproxy`): a crash. */
  async kill(name: string): Promise<void> {
    await run(['kill', name], this.env, 10_000);
  }

  /** SIGTERM to an edge, resolved once it has drained and exited (a pod stopping). */
  async drain(name: string): Promise<void> {
    await run(['drain', name], this.env, 120_000);
  }

  /** Starts an edge in its slot, resolved once it is ready and HAProxy routes to it (a new pod). */
  async up(name: string): Promise<void> {
    await run(['up', name], this.env, 120_000);
  }

  /** The last lines a process of the cluster logged, for failure messages. */
  logTail(name: string, lines = 20): string {
    try {
      const text = readFileSync(join(this.stateDir, 'logs', `${name}.log`), 'utf8');
      return text.trimEnd().split('\n').slice(-lines).join('\n');
    } catch {
      return '(no log)';
    }
  }

  /** Stops every process and removes the state dir. */
  async stop(): Promise<void> {
    try {
      await run(['stop'], this.env, 90_000);
    } finally {
      rmSync(this.stateDir, { recursive: true, force: true });
    }
  }
}

function emptyEndpoints(): LocalClusterEndpoints {
  return {
    url: '',
    ca: '',
    edgeUrls: [],
    ingestUrl: '',
    jwtSecret: '',
    jwtIssuer: '',
    jwtAudience: '',
    databaseUrl: '',
  };
}

function parseEnv(printed: string): LocalClusterEndpoints {
  const vars = new Map<string, string>();
  for (const line of printed.split('\n')) {
    const match = /^export ([A-Z0-9_]+)=(.*)$/.exec(line);
    if (match) vars.set(match[1]!, match[2]!);
  }
  const get = (name: string): string => {
    const value = vars.get(name);
    if (value === undefined) throw new LocalClusterError('env', `no ${name} in:\n${printed}`);
    return value;
  };
  return {
    url: get('FLEETWIRE_CLUSTER_URL'),
    ca: readFileSync(get('FLEETWIRE_CLUSTER_CA'), 'utf8'),
    edgeUrls: get('FLEETWIRE_CLUSTER_EDGE_URLS').split(','),
    ingestUrl: get('FLEETWIRE_CLUSTER_INGEST_URL'),
    jwtSecret: get('FLEETWIRE_JWT_HS256_SECRET'),
    jwtIssuer: get('FLEETWIRE_JWT_ISSUER'),
    jwtAudience: get('FLEETWIRE_JWT_AUDIENCE'),
    databaseUrl: get('DATABASE_URL'),
  };
}

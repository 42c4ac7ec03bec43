import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

import { Redis } from 'ioredis';

import { TestkitError } from '../errors.js';
import { freePorts } from './free-port.js';
import { LocalService, type LocalServiceOptions } from './local-service.js';
import { waitUntil } from './wait.js';

const run = promisify(execFile);

/** One master of a LocalRedisCluster: redis-server in cluster mode, its nodes.conf in its dir. */
export class LocalRedisClusterNode extends LocalService {
  constructor(
    readonly port: number,
    options: LocalServiceOptions,
  ) {
    super('redis-cluster-node', 'run-redis.sh', options);
  }

  get address(): string {
    return `127.0.0.1:${this.port}`;
  }

  protected scriptArgs(): string[] {
    return [this.dir, String(this.port), 'cluster'];
  }

  protected async probe(): Promise<boolean> {
    return (await clusterInfo(this.port)) !== undefined;
  }
}

/** `CLUSTER INFO` of one node as a map, or undefined while it does not answer. */
async function clusterInfo(port: number): Promise<Map<string, string> | undefined> {
  const client = new Redis({
    host: '127.0.0.1',
    port,
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  // A refused connection already rejects connect(); the duplicate 'error' event is not news.
  client.on('error', () => undefined);
  try {
    await client.connect();
    const text = String(await client.call('CLUSTER', 'INFO'));
    return new Map(
      text
        .split(/\r?\n/)
        .filter((line) => line.includes(':'))
        .map((line) => line.split(':', 2) as [string, string]),
    );
  } catch {
    return undefined;
  } finally {
    client.disconnect();
  }
}

/**
 * A Redis Cluster of three masters (no replicas) on free ports, each in its own temp dir: the
 * slots split evenly by `redis-cli --cluster create`. Each node can be killed and started again
 * on its port; it rejoins with its node id and slots from its nodes.conf (its data is gone, as
 * a master restart without persistence loses it).
 */
export class LocalRedisCluster {
  private constructor(readonly nodes: LocalRedisClusterNode[]) {}

  static async launch(options: LocalServiceOptions & { masters?: number } = {}) {
    const ports = await freePorts(options.masters ?? 3);
    const nodes = ports.map((port) => new LocalRedisClusterNode(port, options));
    const cluster = new LocalRedisCluster(nodes);
    try {
      await Promise.all(nodes.map((node) => node.start()));
      try {
        await run(
          'redis-cli',
          ['--cluster', 'create', ...nodes.map((n) => n.address), '--cluster-yes'],
          { timeout: 30_000 },
        );
      } catch (cause) {
        throw new TestkitError(
          'TESTKIT_SERVICE_EXITED',
          `redis-cli --cluster create failed (node logs: ${nodes.map((n) => n.logFile).join(', ')})`,
          { cause },
        );
      }
      await cluster.waitUntilOk(options.startTimeoutMs ?? 60_000);
    } catch (error) {
      await cluster.dispose();
      throw error;
    }
    return cluster;
  }

  /** `host:port` of every master, as REDIS_CLUSTER_NODES lists them. */
  get addresses(): string[] {
    return this.nodes.map((node) => node.address);
  }

  /** Resolves once every node says cluster_state:ok and knows all 16384 slots. */
  async waitUntilOk(timeoutMs = 30_000): Promise<void> {
    await waitUntil(
      async () => {
        const infos = await Promise.all(this.nodes.map((node) => clusterInfo(node.port)));
        return infos.every(
          (info) => info?.get('cluster_state') === 'ok' && info.get('cluster_slots_ok') === '16384',
        );
      },
      { what: `redis cluster ${this.addresses.join(',')} state ok`, timeoutMs },
    );
  }

  async dispose(): Promise<void> {
    await Promise.all(this.nodes.map((node) => node.dispose()));
  }
}

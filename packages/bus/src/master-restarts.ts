import type { Cluster, Redis } from 'ioredis';

/**
 * Tells whether a master of a Redis Cluster restarted since the last look: its `run_id` (new
 * with every redis-server process) changed. On one Redis a restart without persistence loses
 * every key, the presence lease with the rest, and the lease tells; on a cluster it loses the
 * keys of that master's slots only (some tenants' records, some nodes' sets) while the lease
 * may live on another master, so presence looks here too. O(masters) reads per look, no write.
 */
export class MasterRestarts {
  /** `host:port` → the run_id it last answered. */
  private readonly runIds = new Map<string, string>();

  constructor(private readonly cluster: Cluster) {}

  /**
   * True when a master seen before answers with another run_id. A master seen for the first time
   * (startup, a new master after resharding) is only remembered; one that does not answer now is
   * looked at again next time, so a restart during an outage is still seen once it is back.
   */
  async restarted(): Promise<boolean> {
    const masters = this.cluster.nodes('master');
    const ids = await Promise.all(masters.map((master) => runIdOf(master)));
    let restarted = false;
    masters.forEach((master, i) => {
      const id = ids[i];
      if (id === undefined) return;
      const address = `${master.options.host ?? ''}:${master.options.port ?? ''}`;
      const before = this.runIds.get(address);
      if (before !== undefined && before !== id) restarted = true;
      this.runIds.set(address, id);
    });
    return restarted;
  }
}

/** The server's run_id, or undefined when it does not answer (looked at again next time). */
async function runIdOf(master: Redis): Promise<string | undefined> {
  try {
    return /^run_id:([0-9a-f]+)/m.exec(await master.info('server'))?.[1];
  } catch {
    return undefined;
  }
}

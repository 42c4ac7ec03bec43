import type { PresenceStore } from '@fleetwire/bus';
import { CloseCode, CloseReason } from '@fleetwire/protocol';
import type { Logger } from 'pino';

import type { EdgeMetrics } from '../metrics.js';
import type { Connection } from './connection.js';
import type { DependencyFailures } from './dependency-failures.js';
import { planRebalance, type RebalancePlan, type RebalanceSettings } from './rebalance-plan.js';

export interface RebalancerDeps {
  store: PresenceStore;
  /** This node's id in the presence store (its own heartbeat is left out of the peers). */
  nodeId: string;
  settings: RebalanceSettings;
  /**
   * How often nodes renew their heartbeat: a peer silent for 2.5 of these is left out, and after
   * a shed the peers' heartbeats count once they are one of these younger than it.
   */
  heartbeatMs: number;
  connections: () => Connection[];
  /** False while the node drains: the drain closes everything itself. */
  accepting: () => boolean;
  metrics: EdgeMetrics;
  logger: Logger;
  failures: DependencyFailures;
  random?: () => number;
}

/**
 * Opt-in connection rebalance (FLEETWIRE_REBALANCE). A load balancer without sticky sessions
 * spreads new connections, never existing ones: after an edge restarts, it stays nearly empty
 * while the others keep what they took over. Every interval this node compares its count with
 * its peers' heartbeats (presence store) and, when it holds far more than its share, closes a
 * few random connections with 1012 so their reconnects land where the load balancer sends them.
 */
export class Rebalancer {
  private timer: NodeJS.Timeout | undefined;
  private lastShedAt: number | undefined;
  private running: Promise<unknown> | undefined;
  private decisions = 0;

  constructor(private readonly deps: RebalancerDeps) {}

  /** Decisions taken so far (tests wait for a number of them instead of sleeping). */
  get rounds(): number {
    return this.decisions;
  }

  start(): void {
    this.timer ??= setInterval(() => {
      this.running ??= this.tick().finally(() => (this.running = undefined));
    }, this.deps.settings.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** One decision, and the shedding it calls for; exposed for tests. */
  async tick(now = Date.now()): Promise<RebalancePlan | undefined> {
    const { deps } = this;
    if (!deps.accepting()) return undefined;
    let peers;
    try {
      peers = (await deps.store.nodeLoads(now)).filter((load) => load.node !== deps.nodeId);
    } catch (error) {
      // No counts, no decision: a store outage must not look like an empty cluster.
      deps.failures.failed('presence', 'nodeLoads', error);
      return undefined;
    }
    // The drain may have begun while the store answered.
    if (!deps.accepting()) return undefined;
    const open = deps.connections();
    const plan = planRebalance({
      own: open.length,
      peers,
      now,
      freshMs: Math.ceil(deps.heartbeatMs * 2.5),
      lastShedAt: this.lastShedAt,
      // One heartbeat: clients reconnect within a fraction of it (the SDK: 0–500 ms after 1012).
      settleMs: deps.heartbeatMs,
      settings: deps.settings,
    });
    this.decisions += 1;
    if (plan.shed === 0) return plan;
    this.lastShedAt = now;
    for (const conn of pick(open, plan.shed, deps.random ?? Math.random)) {
      conn.end(CloseCode.ServiceRestart, CloseReason.Rebalance);
    }
    deps.metrics.rebalanceShed.inc(plan.shed);
    deps.logger.info(
      {
        shed: plan.shed,
        connections: open.length,
        share: Math.round(plan.share),
        peers: peers.length,
      },
      'rebalance: over its share of connections, shedding some (1012)',
    );
    return plan;
  }
}

/** `count` distinct items, uniformly at random (a partial Fisher–Yates shuffle of a copy). */
function pick<T>(items: readonly T[], count: number, random: () => number): T[] {
  const pool = [...items];
  const n = Math.min(count, pool.length);
  for (let i = 0; i < n; i += 1) {
    const j = i + Math.floor(random() * (pool.length - i));
    [pool[i], pool[j]] = [pool[j] as T, pool[i] as T];
  }
  return pool.slice(0, n);
}

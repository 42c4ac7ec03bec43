import type { NodeLoad } from '@fleetwire/bus';

/** How eagerly an overloaded node gives connections back (FLEETWIRE_REBALANCE_*). */
export interface RebalanceSettings {
  /** A node sheds only above its share × (1 + tolerance): 0.2 = 20 % over its share. */
  tolerance: number;
  /** At most this fraction of its connections is shed in one interval. */
  fraction: number;
  /** Time between two decisions. */
  intervalMs: number;
}

export interface RebalanceInput {
  /** This node's connections now. */
  own: number;
  /** The other nodes' last heartbeats (this node's own left out). */
  peers: readonly NodeLoad[];
  now: number;
  /** A peer whose heartbeat is older than this is left out (it died, or lost the store). */
  freshMs: number;
  /** When this node last shed, if it did. */
  lastShedAt: number | undefined;
  /**
   * How long after a shed the peers' counts still miss the reconnects: a peer's heartbeat counts
   * only if it is at least this much younger than the shed.
   */
  settleMs: number;
  settings: Pick<RebalanceSettings, 'tolerance' | 'fraction'>;
}

export type RebalanceDecision =
  /** No live peer that reports a load: nowhere to send connections. */
  | 'alone'
  /** A peer has not renewed since the last shed settled: its count misses the reconnects. */
  | 'waiting'
  /** Within share × (1 + tolerance). */
  | 'balanced'
  | 'shed';

export interface RebalancePlan {
  decision: RebalanceDecision;
  /** Connections to close with 1012 now. */
  shed: number;
  /** The mean connections per node, this one included (0 when alone). */
  share: number;
}

/**
 * Whether this node holds far more than its share of the cluster's connections, and how many to
 * shed now. Pure: the caller supplies the counts and the clock.
 *
 * It sheds only above `share × (1 + tolerance)`, at most `fraction` of its connections per call,
 * and never below the share itself, so a small excess (one device between two nodes) never
 * bounces back and forth. After a shed it waits until every peer has renewed once the reconnects
 * had time to land, so the next decision sees where the shed connections went: this node's own
 * count is live, its peers' are as old as their heartbeat, and a decision on counts that miss the
 * reconnects would see too small a share and shed again.
 */
export function planRebalance(input: RebalanceInput): RebalancePlan {
  const { own, now, freshMs, lastShedAt, settleMs, settings } = input;
  const peers = input.peers.filter((peer) => peer.at > now - freshMs);
  if (peers.length === 0) return { decision: 'alone', shed: 0, share: 0 };
  const total = peers.reduce((sum, peer) => sum + peer.connections, own);
  const share = total / (peers.length + 1);
  if (own <= share * (1 + settings.tolerance)) return { decision: 'balanced', shed: 0, share };
  if (lastShedAt !== undefined && peers.some((peer) => peer.at < lastShedAt + settleMs)) {
    return { decision: 'waiting', shed: 0, share };
  }
  const shed = Math.min(Math.ceil(own * settings.fraction), Math.floor(own - share));
  return shed > 0 ? { decision: 'shed', shed, share } : { decision: 'balanced', shed: 0, share };
}

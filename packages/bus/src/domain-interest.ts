import { PatternIndex } from '@fleetwire/protocol';

/** A node's patterns in one domain as stored and announced: one per line (topics hold no control characters). */
export function encodePatterns(patterns: Iterable<string>): string {
  return [...patterns].sort().join('\n');
}

/** At most this many patterns of one node are read back (a bound on what Redis can make us hold). */
export const MAX_PATTERNS_PER_NODE = 100_000;

export function decodePatterns(text: string): string[] {
  if (text === '') return [];
  return text.split('\n', MAX_PATTERNS_PER_NODE);
}

/**
 * What one node knows of who listens in one domain (a tenant), for interest-based publishing:
 * every other node's patterns, at a table version. Until a full read of the table has been
 * applied (`load`), and again after the node lost its subscription to the domain's change
 * notices (`stale`), it knows nothing and says every topic is wanted: a publisher skips the
 * broker only on a table it knows is fresh.
 *
 * Change notices carry a node's whole pattern set and the table version of the change; a notice
 * is applied when it is newer than what is known of that node, so notices and the read may
 * arrive in any order (notices that arrive before the read are kept and replayed on it).
 */
export class DomainInterest {
  private loadedAt: number | undefined;
  /** The newest table version known (read or noticed), while fresh. */
  private latest = 0;
  private readonly byNode = new Map<string, { version: number; patterns: string[] }>();
  private readonly remote = new PatternIndex();
  private pending: { version: number; node: string; patterns: string[] }[] = [];

  constructor(private readonly self: string) {}

  /** True while the table is known and followed: only then may a publish be skipped. */
  get fresh(): boolean {
    return this.loadedAt !== undefined;
  }

  /** Patterns held by other nodes (distinct). */
  get remotePatterns(): number {
    return this.remote.size;
  }

  /**
   * The newest table version this node knows of, while the table is fresh: a change made by
   * anyone since then has a higher one (a reaper deletes only at the version it knows).
   */
  get version(): number | undefined {
    return this.loadedAt === undefined ? undefined : this.latest;
  }

  /** The other nodes holding patterns in the domain, as known. */
  nodes(): IterableIterator<string> {
    return this.byNode.keys();
  }

  /** Whether a node other than this one may want the topic: true whenever the table is not fresh. */
  wanted(topic: string): boolean {
    return !this.fresh || this.remote.match(topic).length > 0;
  }

  /**
   * A full read of the table at `version`, made after the change notices were subscribed. It is
   * the whole truth: what was known before goes, versions included, since a table lost with its
   * master (no persistence, a lagging replica) starts counting again from 0 and its new changes
   * would otherwise look older than what is remembered.
   */
  load(version: number, entries: Map<string, string[]>): void {
    for (const known of this.byNode.values()) {
      for (const pattern of known.patterns) this.remote.remove(pattern);
    }
    this.byNode.clear();
    for (const [node, patterns] of entries) this.set(node, version, patterns);
    this.loadedAt = version;
    this.latest = version;
    const pending = this.pending;
    this.pending = [];
    // The read includes every change up to its version: only later ones add anything.
    for (const change of pending) {
      if (change.version > version) this.apply(change.version, change.node, change.patterns);
    }
  }

  /**
   * A change notice: `node` holds exactly `patterns` since table version `version`. This node's
   * own notices count too (for the version), though its patterns are not kept.
   */
  apply(version: number, node: string, patterns: string[]): void {
    if (this.loadedAt === undefined) {
      this.pending.push({ version, node, patterns });
      return;
    }
    if (version > this.latest) this.latest = version;
    this.set(node, version, patterns);
  }

  /** The notices are no longer followed (subscription lost): back to "everything is wanted". */
  stale(): void {
    this.loadedAt = undefined;
    this.pending = [];
  }

  private set(node: string, version: number, patterns: string[]): void {
    if (node === this.self) return;
    const known = this.byNode.get(node);
    if (known && known.version >= version) return;
    for (const pattern of known?.patterns ?? []) this.remote.remove(pattern);
    if (patterns.length === 0) {
      this.byNode.delete(node);
      return;
    }
    for (const pattern of patterns) this.remote.add(pattern);
    this.byNode.set(node, { version, patterns });
  }
}

import type { Cluster } from 'ioredis';

import { BusError } from './bus.js';
import { encodeAck, parseControlFrame } from './cluster-frames.js';
import { DomainInterest, decodePatterns, encodePatterns } from './domain-interest.js';

/**
 * Interest in a domain: sets a node's patterns (none: removes them), bumps the version, announces
 * the change (`i`: acknowledge it, `u`: no need) and answers {version, followers}.
 */
const SET_INTEREST = `
if ARGV[2] == '' then redis.call('HDEL', KEYS[1], ARGV[1]) else redis.call('HSET', KEYS[1], ARGV[1], ARGV[2]) end
local v = redis.call('INCR', KEYS[2])
local n = redis.call('SPUBLISH', ARGV[3], ARGV[4] .. ' ' .. ARGV[1] .. ' ' .. v .. '\\n' .. ARGV[2])
return {v, n}
`;

/** The interest table of a domain and its version, read in one step. */
const READ_INTEREST = `return {redis.call('GET', KEYS[2]) or '0', redis.call('HGETALL', KEYS[1])}`;

/**
 * A node's heartbeat in the bus nodes' sorted set (score: Redis TIME in ms). Forgets nodes silent
 * longer than the retention (ARGV[3]), and answers {previous beat of this node or '', now, nodes
 * silent longer than ARGV[2], the most recently silent first (at most 1,000)}.
 */
const BEAT = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local previous = redis.call('ZSCORE', KEYS[1], ARGV[1])
redis.call('ZADD', KEYS[1], string.format('%d', now), ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', '(' .. string.format('%d', now - tonumber(ARGV[3])))
local silent = redis.call('ZREVRANGEBYSCORE', KEYS[1], '(' .. string.format('%d', now - tonumber(ARGV[2])), '-inf', 'LIMIT', 0, 1000)
return {previous or '', string.format('%d', now), silent}
`;

/**
 * Takes a silent node (ARGV[1]) out of a domain's table, only at the table version the reaper
 * knows (ARGV[2]): any change since (the node announcing itself again among them) makes it a
 * no-op. Announces the removal as the node's own leaving would be. Answers 1 when removed.
 */
const REAP_INTEREST = `
if (redis.call('GET', KEYS[2]) or '0') ~= ARGV[2] then return 0 end
if redis.call('HDEL', KEYS[1], ARGV[1]) == 0 then return 0 end
local v = redis.call('INCR', KEYS[2])
redis.call('SPUBLISH', ARGV[3], 'u ' .. ARGV[1] .. ' ' .. v .. '\\n')
return 1
`;

/** Defaults: how often a node beats, and how long a silent one lives on in the tables. */
export const INTEREST_BEAT_MS = 5_000;
export const INTEREST_REAP_AFTER_MS = 60_000;
/** Default: how long a domain this node neither publishes into nor listens in stays followed. */
export const INTEREST_FOLLOW_IDLE_MS = 600_000;

/** How long a node silent past the reap bound stays listed (so a late follower still reaps it). */
const SILENT_NODES_KEPT_MS = 24 * 3_600_000;

type InterestSet = (...args: string[]) => Promise<[number, number]>;
type InterestRead = (...args: string[]) => Promise<[string, string[]]>;
type Beat = (...args: string[]) => Promise<[string, string, string[]]>;
type Reap = (...args: string[]) => Promise<number>;

export interface ClusterInterestOptions {
  /** How long a join waits for the followers' acknowledgements. */
  ackTimeoutMs: number;
  /** A node whose heartbeat is older than this is taken for dead (reaped). Default 60 s. */
  reapAfterMs?: number;
  /** A domain unused this long is no longer followed (see unfollowIdle). Default 10 min. */
  followIdleMs?: number;
  /**
   * Told when a change notice says this node holds nothing in a domain: it left, or it was
   * reaped while alive (then it announces itself again).
   */
  onRemoved?: (domain: string) => void;
}

/** What a heartbeat found. */
export interface BeatResult {
  /**
   * This node's previous beat is older than the reap bound, or gone: other nodes may have taken
   * its interest out of their tables, so it announces its interest again.
   */
  lapsed: boolean;
  /**
   * Nodes silent longer than the reap bound, to be reaped; none until this node's own beats have
   * gone through for a whole bound (after a lapse, a failed beat, or at start): after an outage
   * of the heartbeats' master, or a stall of this node, every other node looks silent too.
   */
  silent: string[];
  /** The table versions this node knew before the beat: a reap is made only at them. */
  versions: Map<string, number>;
}

/** A domain this node follows: its table, the control subscription and read, its changes. */
interface Followed {
  interest: DomainInterest;
  /** The control channel's subscription and the table read after it (again after a loss). */
  control: Promise<void> | undefined;
  /** This node's changes run one after another, each sending the set current then. */
  changes: Promise<void>;
  /** Set while the last change failed: this node's patterns, not (all) announced. */
  unannounced: (() => Iterable<string>) | undefined;
  /** This node's changes queued or running. */
  pending: number;
  /** Asked about (a publish) since the last sweep; else idle since `idleSince`. */
  used: boolean;
  idleSince: number | undefined;
}

/**
 * Interest-based publishing on a Redis Cluster, the protocol half of RedisClusterBus. Each node
 * keeps its patterns of a domain in `<prefix>n:{<domain>}` (hash node → patterns, version
 * `<prefix>n:{<domain>}:v`) and announces changes on the domain's control channel
 * `<prefix>x:{<domain>}` (cluster-frames.ts), which every node publishing into or listening in
 * the domain follows: it subscribes the channel, then reads the table (DomainInterest). A node
 * that starts listening waits until every follower acknowledged its change (the SPUBLISH answer
 * counts them, this node among them when its own subscription is up: it acknowledges its own
 * change when it hears it), or a timeout, so nothing published after its subscription resolved
 * is skipped.
 * A follower acknowledges as soon as it applied the change: from then on it publishes to the
 * new pattern (or, with its table not known fresh, everything).
 */
export class ClusterInterest {
  /** Joins that resolved without every acknowledgement. */
  ackTimeouts = 0;
  private readonly followed = new Map<string, Followed>();
  /** Joins waiting for acknowledgements, by `<domain> <version>`. */
  private readonly ackWaiters = new Map<string, { missing: number; done: () => void }>();
  /** Acknowledgements that came before their change's reply (other connection), by the same key. */
  private readonly earlyAcks = new Map<string, number>();

  /** Silent nodes' entries this node took out of tables. */
  reaped = 0;
  private beaten = false;
  /** Since when (this clock) this node's beats go through without a lapse; unset after a failure. */
  private healthySince: number | undefined;

  private readonly ackTimeoutMs: number;
  private readonly reapAfterMs: number;
  private readonly followIdleMs: number;
  private readonly onRemoved: (domain: string) => void;

  constructor(
    private readonly pub: Cluster,
    private readonly sub: Cluster,
    private readonly nodeId: string,
    private readonly prefix: string,
    options: ClusterInterestOptions,
  ) {
    this.ackTimeoutMs = options.ackTimeoutMs;
    this.reapAfterMs = options.reapAfterMs ?? INTEREST_REAP_AFTER_MS;
    this.followIdleMs = options.followIdleMs ?? INTEREST_FOLLOW_IDLE_MS;
    this.onRemoved = options.onRemoved ?? (() => undefined);
    pub.defineCommand('fleetwireSetInterest', { numberOfKeys: 2, lua: SET_INTEREST });
    pub.defineCommand('fleetwireReadInterest', { numberOfKeys: 2, lua: READ_INTEREST });
    pub.defineCommand('fleetwireInterestBeat', { numberOfKeys: 1, lua: BEAT });
    pub.defineCommand('fleetwireReapInterest', { numberOfKeys: 2, lua: REAP_INTEREST });
  }

  /** The bus nodes' heartbeats: one sorted set per cluster (`{nodes}` slot). */
  private get beatsKey(): string {
    return `${this.prefix}{nodes}:interest-beat`;
  }

  /** Writes this node's heartbeat and names the nodes silent past the reap bound. */
  async beat(): Promise<BeatResult> {
    // Before the beat: a node that announced itself again after the beat's read of the silent
    // nodes changed the version since, so its removal is refused.
    const versions = new Map<string, number>();
    for (const [domain, followed] of this.followed) {
      const { version } = followed.interest;
      if (version !== undefined) versions.set(domain, version);
    }
    const beat = (this.pub as unknown as { fleetwireInterestBeat: Beat }).fleetwireInterestBeat;
    let answer: [string, string, string[]];
    try {
      answer = await beat.call(
        this.pub,
        this.beatsKey,
        this.nodeId,
        String(this.reapAfterMs),
        String(SILENT_NODES_KEPT_MS),
      );
    } catch (error) {
      this.healthySince = undefined;
      throw error;
    }
    const [previous, now, silent] = answer;
    const lapsed =
      this.beaten && (previous === '' || Number(now) - Number(previous) > this.reapAfterMs);
    this.beaten = true;
    const at = Date.now();
    if (lapsed || this.healthySince === undefined) this.healthySince = at;
    const healthy = at - this.healthySince >= this.reapAfterMs;
    return {
      lapsed,
      silent: healthy ? silent.filter((node) => node !== this.nodeId) : [],
      versions,
    };
  }

  /** A beat was not even tried (no connection): reaping waits for a whole bound of beats again. */
  beatMissed(): void {
    this.healthySince = undefined;
  }

  /** Takes this node's heartbeat away (a clean shutdown). */
  async forget(): Promise<void> {
    await this.pub.zrem(this.beatsKey, this.nodeId);
  }

  /**
   * Takes a beat's silent nodes out of the tables of the domains this node follows, at the
   * versions it knew before the beat, one per domain and call (each removal changes the version:
   * the next waits for a later beat). Answers how many.
   */
  async reap({ silent, versions }: Pick<BeatResult, 'silent' | 'versions'>): Promise<number> {
    if (silent.length === 0) return 0;
    const dead = new Set(silent);
    const reap = (this.pub as unknown as { fleetwireReapInterest: Reap }).fleetwireReapInterest;
    let reaped = 0;
    for (const [domain, version] of versions) {
      const followed = this.followed.get(domain);
      if (!followed) continue;
      for (const node of followed.interest.nodes()) {
        if (!dead.has(node)) continue;
        const removed = await reap.call(
          this.pub,
          ...this.keys(domain),
          node,
          String(version),
          this.controlChannel(domain),
        );
        if (Number(removed) === 1) {
          reaped += 1;
          this.reaped += 1;
        }
        break;
      }
    }
    return reaped;
  }

  controlChannel(domain: string): string {
    return `${this.prefix}x:{${domain}}`;
  }

  /**
   * Whether a node other than this one may want `topic` of `domain`: true until the domain's
   * table is known. A domain first asked about is followed from now on.
   */
  wanted(domain: string, topic: string): boolean {
    const followed = this.domain(domain);
    followed.used = true;
    this.follow(domain, followed);
    return followed.interest.wanted(topic);
  }

  /**
   * The domains whose last change of this node's entry Redis refused (an announcement, a
   * removal, a restore), none under way: what the heartbeat makes again.
   */
  owed(): string[] {
    const owed: string[] = [];
    for (const [domain, followed] of this.followed) {
      if (followed.unannounced && followed.pending === 0) owed.push(domain);
    }
    return owed;
  }

  /** How many domains this node follows now. */
  get followedCount(): number {
    return this.followed.size;
  }

  /**
   * Stops following the domains nothing asked about for `followIdleMs` (no publish into them),
   * that this node holds no patterns in (`holds`) and has no change of its own under way or owed
   * in: their table and control subscription go, so a node does not follow every tenant it ever
   * published into for its whole life (one subscription each, refollowed after every loss). A
   * later publish follows the domain again, publishing everything until its table is read.
   * Answers how many.
   */
  unfollowIdle(holds: (domain: string) => boolean): number {
    const now = Date.now();
    let dropped = 0;
    for (const [domain, followed] of this.followed) {
      if (followed.used || followed.pending > 0 || followed.unannounced || holds(domain)) {
        followed.used = false;
        followed.idleSince = undefined;
        continue;
      }
      followed.idleSince ??= now;
      if (now - followed.idleSince < this.followIdleMs) continue;
      this.followed.delete(domain);
      dropped += 1;
      // Sent after any subscribe of the channel (one subscriber connection per shard, in order).
      this.sub.sunsubscribe(this.controlChannel(domain)).catch(() => undefined);
    }
    return dropped;
  }

  /**
   * Announces this node's patterns of the domain as `patterns()` gives them when the change
   * runs; a join (`wait`) resolves once every other follower acknowledged it, or after the
   * timeout.
   */
  async announce(domain: string, patterns: () => Iterable<string>, wait: boolean): Promise<void> {
    const followed = this.domain(domain);
    await this.change(followed, patterns, async () => {
      await this.follow(domain, followed).catch(() => undefined);
      const [version, followers] = await this.setInterest(domain, encodePatterns(patterns()), wait);
      // The count includes this node only if its own subscription of the channel is up (it may
      // have been refused, or lost): so this node acknowledges its change too, when the change
      // comes back on that subscription, and the join waits for exactly `followers`.
      if (wait && followers > 0) await this.acks(domain, version, followers);
      return true;
    });
  }

  /**
   * Resolves once the changes announced so far are done (a second holder of a pattern waits).
   * When the last one failed, announces again (and waits for the acknowledgements), so the next
   * holder of a pattern whose announcement was refused does not take it for announced.
   */
  async settled(domain: string): Promise<void> {
    const followed = this.followed.get(domain);
    if (!followed) return;
    await followed.changes;
    if (!followed.unannounced) return;
    try {
      await this.announce(domain, followed.unannounced, true);
    } catch (cause) {
      throw new BusError('BUS_UNAVAILABLE', 'Redis unavailable: interest not announced', {
        cause,
      });
    }
  }

  /** Takes this node out of the domain's table, without waiting for anyone. */
  async leave(domain: string): Promise<void> {
    // After this node's queued changes: one landing after the leave would put it back.
    await this.change(this.domain(domain), undefined, async () => {
      await this.setInterest(domain, '', false);
      return true;
    });
  }

  /**
   * After a notice that this node holds nothing in the domain: once this node's own changes are
   * done, if its entry is missing while it holds patterns, it was reaped alive, and it announces
   * them again. Answers whether it did (its own leave's notice, heard late, is not a removal).
   */
  restore(domain: string, patterns: () => Iterable<string>): Promise<boolean> {
    return this.change(this.domain(domain), patterns, async () => {
      const held = encodePatterns(patterns());
      if (held === '') return false;
      if ((await this.pub.hget(this.keys(domain)[0], this.nodeId)) !== null) return false;
      await this.setInterest(domain, held, false);
      return true;
    });
  }

  /**
   * Runs a change of this node's entry after the ones queued before it; `run` answers whether it
   * wrote the entry. Each change sends the whole set, so the last one decides what is owed: a
   * change that wrote clears it, one that failed leaves `owedOnFailure` (if any) owed, one that
   * wrote nothing (the entry was there) keeps what a refused change left owed.
   */
  private change(
    followed: Followed,
    owedOnFailure: (() => Iterable<string>) | undefined,
    run: () => Promise<boolean>,
  ): Promise<boolean> {
    followed.pending += 1;
    const step = followed.changes.then(run);
    followed.changes = step.then(
      (wrote) => {
        followed.pending -= 1;
        if (wrote) followed.unannounced = undefined;
      },
      () => {
        followed.pending -= 1;
        if (owedOnFailure) followed.unannounced = owedOnFailure;
      },
    );
    return step;
  }

  /** The control subscriptions may be gone: no table is known fresh until read again. */
  stale(): void {
    for (const followed of this.followed.values()) {
      followed.interest.stale();
      followed.control = undefined;
    }
  }

  /** Subscribes and reads every followed domain again (after a loss). */
  refollow(): Promise<void>[] {
    return [...this.followed.entries()].map(([domain, followed]) => this.follow(domain, followed));
  }

  onControlMessage(domain: string, message: Buffer): void {
    const frame = parseControlFrame(message);
    if (!frame) return;
    // Undefined for a notice heard after this node stopped following the domain (unfollowIdle).
    const followed = this.followed.get(domain);
    if (frame.node === this.nodeId) {
      if (frame.kind !== 'interest') return;
      // This node's own change, counted by the SPUBLISH that announced it (see announce).
      if (frame.acknowledge) this.acknowledged(`${domain} ${frame.version}`);
      followed?.interest.apply(frame.version, frame.node, []);
      if (frame.patterns === '') this.onRemoved(domain);
      return;
    }
    if (frame.kind === 'ack') {
      if (frame.for === this.nodeId) this.acknowledged(`${domain} ${frame.version}`);
      return;
    }
    followed?.interest.apply(frame.version, frame.node, decodePatterns(frame.patterns));
    if (!frame.acknowledge) return;
    // Applied (or moot while the table is not read, or not followed: everything goes out then).
    this.pub
      .spublish(this.controlChannel(domain), encodeAck(this.nodeId, frame.version, frame.node))
      .catch(() => undefined);
  }

  private domain(name: string): Followed {
    let followed = this.followed.get(name);
    if (!followed) {
      followed = {
        interest: new DomainInterest(this.nodeId),
        control: undefined,
        changes: Promise.resolve(),
        unannounced: undefined,
        pending: 0,
        used: true,
        idleSince: undefined,
      };
      this.followed.set(name, followed);
    }
    return followed;
  }

  private keys(domain: string): [string, string] {
    return [`${this.prefix}n:{${domain}}`, `${this.prefix}n:{${domain}}:v`];
  }

  /** Subscribes the domain's control channel, then reads its table (once; again after a loss). */
  private follow(domain: string, followed: Followed): Promise<void> {
    if (followed.control) return followed.control;
    const control = this.sub
      .ssubscribe(this.controlChannel(domain))
      .then(() => this.read(domain, followed));
    followed.control = control;
    // Retried on the next publish or probe; meanwhile everything goes out.
    control.catch(() => {
      if (followed.control === control) followed.control = undefined;
    });
    return control;
  }

  private async read(domain: string, followed: Followed): Promise<void> {
    const read = (this.pub as unknown as { fleetwireReadInterest: InterestRead })
      .fleetwireReadInterest;
    const [versionText, flat] = await read.call(this.pub, ...this.keys(domain));
    const entries = new Map<string, string[]>();
    for (let i = 0; i + 1 < flat.length; i += 2) {
      entries.set(flat[i] as string, decodePatterns(flat[i + 1] as string));
    }
    followed.interest.load(Number(versionText), entries);
  }

  private async setInterest(
    domain: string,
    patterns: string,
    acknowledged: boolean,
  ): Promise<[number, number]> {
    const set = (this.pub as unknown as { fleetwireSetInterest: InterestSet }).fleetwireSetInterest;
    const [version, followers] = await set.call(
      this.pub,
      ...this.keys(domain),
      this.nodeId,
      patterns,
      this.controlChannel(domain),
      acknowledged ? 'i' : 'u',
    );
    return [Number(version), Number(followers)];
  }

  private acks(domain: string, version: number, followers: number): Promise<void> {
    const key = `${domain} ${version}`;
    const missing = followers - (this.earlyAcks.get(key) ?? 0);
    this.earlyAcks.delete(key);
    if (missing <= 0) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.ackWaiters.delete(key);
        this.ackTimeouts += 1;
        resolve();
      }, this.ackTimeoutMs);
      this.ackWaiters.set(key, {
        missing,
        done: () => {
          clearTimeout(timer);
          resolve();
        },
      });
    });
  }

  private acknowledged(key: string): void {
    const waiter = this.ackWaiters.get(key);
    if (!waiter) {
      // Bounded: acks of a join that timed out would otherwise stay.
      this.earlyAcks.set(key, (this.earlyAcks.get(key) ?? 0) + 1);
      if (this.earlyAcks.size > 1_024) {
        this.earlyAcks.delete(this.earlyAcks.keys().next().value as string);
      }
      return;
    }
    waiter.missing -= 1;
    if (waiter.missing > 0) return;
    this.ackWaiters.delete(key);
    waiter.done();
  }
}

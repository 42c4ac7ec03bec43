import { PatternIndex } from '@fleetwire/protocol';
import { Cluster, type ClusterNode, type ClusterOptions } from 'ioredis';

import { randomBytes } from 'node:crypto';

import { BusListeners } from './bus-listeners.js';
import { BusError, RefCounts, type Bus } from './bus.js';
import {
  encodeMessage,
  encodeSyncMarker,
  messageHead,
  parseDomainFrame,
} from './cluster-frames.js';
import {
  ClusterInterest,
  INTEREST_BEAT_MS,
  INTEREST_FOLLOW_IDLE_MS,
  INTEREST_REAP_AFTER_MS,
} from './cluster-interest.js';
import {
  domainOf,
  type Appended,
  type HistoryQuery,
  type HistoryRead,
  type Position,
} from './history.js';
import { KEY_COUNT_FIRST_SCRIPTS, RedisHistory } from './redis-history.js';
import {
  REDIS_REPLY_TIMEOUT_MS,
  clearReplyTimersOnClose,
  shardedSubscriberConnections,
} from './redis-options.js';
import { InFlight } from './in-flight.js';
import { SyncMarkers } from './sync-markers.js';

export interface RedisClusterBusOptions {
  /** Startup nodes (any masters of the cluster; the rest is discovered). */
  nodes: ClusterNode[];
  /** Unique per process: the bus skips its own messages by it. */
  nodeId: string;
  /** Prepended to every key and channel; must not contain `{` or `}` (hash tags). */
  prefix?: string;
  /**
   * Interest-based publishing (default on): a publish no other node listens to stays on this
   * node. Off: every publish crosses Redis, as on a single Redis.
   */
  interest?: boolean;
  /** How long joining a domain waits for the publishers' acknowledgements of the new interest. */
  interestAckTimeoutMs?: number;
  /** How often this node writes its heartbeat (interest-based publishing; default 5 s). */
  interestBeatMs?: number;
  /**
   * A node whose heartbeat is older than this (a crashed process) is taken out of the interest
   * tables this node follows (default 60 s; at least 3 heartbeats).
   */
  interestReapAfterMs?: number;
  /**
   * A tenant this node neither publishes into nor listens in for this long is no longer followed
   * (its interest table and change subscription let go; default 10 min, at least one heartbeat).
   */
  interestFollowIdleMs?: number;
  /** A connection silent this long with a command waiting is closed (`redisConnectionOptions`). */
  replyTimeoutMs?: number;
  /**
   * Addresses the cluster announces → where this node reaches them (NAT, port forwarding), as
   * ioredis' `natMap`.
   */
  natMap?: ClusterOptions['natMap'];
}

/** What a node counts about its publishes (interest-based publishing at work). */
export interface ClusterBusStats {
  /** Publishes and appends fanned out through Redis. */
  fannedOut: number;
  /** Publishes not sent, and appends stored without fan-out: nobody listened. */
  skipped: number;
  /** Joins that resolved without every publisher's acknowledgement (timeout). */
  ackTimeouts: number;
  /** Entries of silent (crashed) nodes this node took out of interest tables. */
  reaped: number;
  /** Times this node announced its interest again after finding it taken out while it lived. */
  reannounced: number;
  /** Heartbeats (with their reaping) that failed. */
  beatFailures: number;
  /** Domains whose interest table this node follows now. */
  followedDomains: number;
}

/** The interest protocol's timings, defaults filled in (validated in `connect`). */
function interestTimings(options: RedisClusterBusOptions): {
  beatMs: number;
  reapAfterMs: number;
  followIdleMs: number;
} {
  return {
    beatMs: options.interestBeatMs ?? INTEREST_BEAT_MS,
    reapAfterMs: options.interestReapAfterMs ?? INTEREST_REAP_AFTER_MS,
    followIdleMs: options.interestFollowIdleMs ?? INTEREST_FOLLOW_IDLE_MS,
  };
}

/** A name's first level (the domain, a tenant) must be concrete and free of hash-tag braces. */
const DOMAIN = /^[^+#{}/]+$/;

const RETRY = (attempt: number): number => Math.min(100 * 2 ** attempt, 2_000);

/** A domain this node listens in. */
interface Domain {
  name: string;
  /** This node's distinct patterns in the domain (first holders of the PatternIndex). */
  patterns: Set<string>;
  /** The data channel's subscription, while this node holds patterns in the domain. */
  data: Promise<void> | undefined;
}

/**
 * Redis Cluster driver with sharded pub/sub (Redis ≥ 7). Everything of one domain (a tenant)
 * lives in one hash slot, `{<domain>}`:
 *
 * - topics: one sharded channel per domain, `<prefix>t:{<domain>}`, carrying the topic in the
 *   frame (cluster-frames.ts); a node SSUBSCRIBEs the channel of each domain it holds patterns
 *   in and filters exactly. One domain's messages keep their order (one shard, one channel);
 *   there is no order across domains.
 * - history: the same scripts as on a single Redis (redis-history.ts), their keys already in the
 *   domain's slot, fanning out with SPUBLISH on the domain channel;
 * - inboxes: one sharded channel each, `<prefix>i:<inbox>`, spread over the shards by its name;
 *   SPUBLISH answers how many listened, as PUBLISH does;
 * - sync(domain): a marker on the domain channel, back once the shard delivered everything before.
 *
 * Interest-based publishing (cluster-interest.ts): a publish no other node's pattern matches is
 * not sent; an append is stored (XADD) but not fanned out when no node, this one included,
 * listens; addPattern resolves once the publishers in the domain know of the new pattern.
 */
export class RedisClusterBus extends BusListeners implements Bus {
  readonly nodeId: string;
  private readonly prefix: string;
  private readonly pub: Cluster;
  private readonly sub: Cluster;
  private readonly history: RedisHistory;
  private readonly patterns = new PatternIndex();
  private readonly domains = new Map<string, Domain>();
  private readonly inboxes = new RefCounts();
  private readonly markers = new SyncMarkers();
  private readonly inFlight = new InFlight();
  /** Absent when interest-based publishing is off. */
  private readonly interest: ClusterInterest | undefined;
  private readonly counters = { fannedOut: 0, skipped: 0, reannounced: 0, beatFailures: 0 };
  private readonly heartbeat: NodeJS.Timeout | undefined;
  private readonly pings: NodeJS.Timeout;
  private beating = false;
  private reaping = false;
  private seq = 0;
  private subscribed = false;
  private wasReady = false;
  private probing = false;
  private closed = false;
  /** Which master serves which slots, as the subscriber side last saw it (see `refreshed`). */
  private topology: string | undefined;

  private constructor(options: RedisClusterBusOptions) {
    super();
    this.nodeId = options.nodeId;
    this.prefix = options.prefix ?? 'fw:';
    const replyTimeoutMs = options.replyTimeoutMs ?? REDIS_REPLY_TIMEOUT_MS;
    const common: ClusterOptions = {
      lazyConnect: true,
      clusterRetryStrategy: RETRY,
      slotsRefreshTimeout: 2_000,
      ...(options.natMap ? { natMap: options.natMap } : {}),
    };
    // Publishing while a shard is away fails (counted by the caller) instead of queueing.
    // Auto-pipelining writes the commands of one tick to a master together (in order).
    this.pub = new Cluster(options.nodes, {
      ...common,
      enableAutoPipelining: true,
      autoPipeliningIgnoredCommands: KEY_COUNT_FIRST_SCRIPTS,
      enableOfflineQueue: false,
      clusterNodeRetryStrategy: RETRY,
      redisOptions: { maxRetriesPerRequest: 0, socketTimeout: replyTimeoutMs },
    });
    // One subscriber connection per master holding channels of ours (ioredis' sharded
    // subscriber group), re-created and resubscribed by ioredis when a master comes back.
    // The slot map is re-read every 2 s: a slot that moved to another master took its
    // subscriptions with it, and nothing else would tell this side (see `refreshed`).
    this.sub = new Cluster(options.nodes, {
      ...common,
      shardedSubscribers: true,
      slotsRefreshInterval: 2_000,
      clusterNodeRetryStrategy: RETRY,
      redisOptions: {
        connectionName: `fleetwire-bus:${options.nodeId}`,
        socketTimeout: replyTimeoutMs,
      },
    });
    this.history = new RedisHistory(this.pub, this.prefix, randomBytes(6).toString('hex'), {
      command: 'SPUBLISH',
      frame: (topic, origin, seq) =>
        this.fanoutWanted(topic, true)
          ? {
              channel: this.dataChannel(domainOf(topic)),
              head: messageHead(origin, seq, topic),
              lead: topic,
            }
          : undefined,
    });
    const { beatMs, reapAfterMs, followIdleMs } = interestTimings(options);
    this.interest =
      options.interest === false
        ? undefined
        : new ClusterInterest(this.pub, this.sub, this.nodeId, this.prefix, {
            ackTimeoutMs: options.interestAckTimeoutMs ?? 2_000,
            reapAfterMs,
            followIdleMs,
            onRemoved: (domain) => this.removedFrom(domain),
          });
    if (this.interest) {
      this.heartbeat = setInterval(() => void this.beat(), beatMs);
      this.heartbeat.unref();
    }
    // A connection with nothing to send never waits for an answer, so the reply timeout alone
    // would not notice it went silent: every master connection, the sharded subscribers
    // included, is pinged twice per timeout. A silent subscriber would otherwise stop every
    // delivery of its shard to this node while it reported itself ready.
    this.pings = setInterval(() => this.ping(), replyTimeoutMs / 2);
    this.pings.unref();
    for (const client of [this.pub, this.sub]) {
      clearReplyTimersOnClose(client);
      // Connection errors are reported through `ready`; the retry strategies handle them.
      client.on('error', () => undefined);
      client.on('node error', () => undefined);
      client.on('close', () => this.lost());
      client.on('ready', () => this.probe());
    }
    // A shard's subscriber went away (its master restarted, or the slots moved): not ready, and
    // no table of ours is known fresh, until ioredis resubscribed and a probe came back.
    this.sub.on('-node', () => this.lost());
    this.sub.on('-subscriber', () => this.lost());
    this.sub.on('subscribersReady', () => this.probe());
    this.sub.on('refresh', () => this.refreshed());
    this.sub.on('smessageBuffer', (channel: Buffer, message: Buffer) =>
      this.onShardMessage(channel.toString(), message),
    );
  }

  static async connect(options: RedisClusterBusOptions): Promise<RedisClusterBus> {
    if (options.prefix !== undefined && /[{}]/.test(options.prefix)) {
      throw new BusError('BUS_INVALID_NAME', `prefix ${options.prefix}: no { or } (hash tags)`);
    }
    const { beatMs, reapAfterMs, followIdleMs } = interestTimings(options);
    if (!(beatMs >= 10)) {
      throw new BusError('BUS_INVALID_OPTIONS', 'interestBeatMs must be at least 10 ms');
    }
    if (!(reapAfterMs >= 3 * beatMs)) {
      // A live node must not be taken for dead between two of its heartbeats.
      throw new BusError(
        'BUS_INVALID_OPTIONS',
        `interestReapAfterMs must be at least 3 × interestBeatMs (${3 * beatMs} ms)`,
      );
    }
    if (!(followIdleMs >= beatMs)) {
      throw new BusError(
        'BUS_INVALID_OPTIONS',
        `interestFollowIdleMs must be at least interestBeatMs (${beatMs} ms)`,
      );
    }
    const bus = new RedisClusterBus(options);
    try {
      await Promise.all([bus.pub.connect(), bus.sub.connect()]);
      await bus.interest?.beat();
    } catch (cause) {
      clearInterval(bus.heartbeat);
      clearInterval(bus.pings);
      bus.pub.disconnect();
      bus.sub.disconnect();
      const nodes = options.nodes.map((n) => (typeof n === 'object' ? `${n.host}:${n.port}` : n));
      throw new BusError(
        'BUS_UNAVAILABLE',
        `cannot connect to Redis Cluster at ${nodes.join(',')}`,
        {
          cause,
        },
      );
    }
    bus.subscribed = true;
    bus.statusChanged();
    return bus;
  }

  get ready(): boolean {
    return this.pub.status === 'ready' && this.sub.status === 'ready' && this.subscribed;
  }

  /** Counters of interest-based publishing (see ClusterBusStats). */
  stats(): ClusterBusStats {
    return {
      ...this.counters,
      ackTimeouts: this.interest?.ackTimeouts ?? 0,
      reaped: this.interest?.reaped ?? 0,
      followedDomains: this.interest?.followedCount ?? 0,
    };
  }

  async publish(topic: string, payload: Uint8Array): Promise<void> {
    const domain = this.domainOf(topic);
    this.seq += 1;
    if (!this.fanoutWanted(topic, false)) return;
    try {
      await this.inFlight.track(
        this.pub.spublish(
          this.dataChannel(domain),
          encodeMessage(this.nodeId, this.seq, topic, payload),
        ),
      );
    } catch (cause) {
      throw new BusError('BUS_UNAVAILABLE', 'Redis unavailable: message not published', { cause });
    }
  }

  async append(batch: readonly Appended[]): Promise<Position[]> {
    if (batch.length === 0) return [];
    this.domainOf((batch[0] as Appended).topic);
    const first = this.seq + 1;
    this.seq += batch.length;
    try {
      return await this.inFlight.track(this.history.append(batch, this.nodeId, first));
    } catch (cause) {
      throw new BusError('BUS_UNAVAILABLE', 'Redis unavailable: message not appended', { cause });
    }
  }

  async readHistory(query: HistoryQuery): Promise<HistoryRead> {
    this.domainOf(query.pattern);
    try {
      return await this.history.read(query);
    } catch (cause) {
      throw new BusError('BUS_UNAVAILABLE', 'Redis unavailable: history not read', { cause });
    }
  }

  /**
   * A marker on the channel of each domain concerned (the one given, or every domain this node
   * listens in): a shard delivers one connection's messages in the order it ran the SPUBLISHes,
   * so once every marker is back, everything fanned out before has reached the handlers.
   */
  async sync(domain?: string, timeoutMs = 2_000): Promise<void> {
    const held = (d: Domain | undefined): d is Domain => d !== undefined && d.patterns.size > 0;
    const domains =
      domain === undefined
        ? [...this.domains.values()].filter(held)
        : [this.domains.get(domain)].filter(held);
    await Promise.all(domains.map((d) => this.syncDomain(d, timeoutMs)));
  }

  private async syncDomain(held: Domain, timeoutMs: number): Promise<void> {
    const domain = held.name;
    try {
      // A subscription refused earlier is tried again here (the recovery probe syncs).
      held.data ??= this.subscribeData(held);
      await held.data;
    } catch (cause) {
      throw new BusError('BUS_UNAVAILABLE', 'Redis unavailable: no sync', { cause });
    }
    await this.markers.roundTrip(
      (token) => this.pub.spublish(this.dataChannel(domain), encodeSyncMarker(this.nodeId, token)),
      timeoutMs,
    );
  }

  /**
   * Resolves once the domain's channel is subscribed and (interest-based publishing) every
   * publisher in the domain acknowledged the new pattern, also for a holder that came second.
   */
  async addPattern(pattern: string): Promise<void> {
    const domain = this.domain(this.domainOf(pattern));
    if (!this.patterns.add(pattern)) {
      domain.data ??= this.subscribeData(domain);
      await Promise.all([domain.data, this.interest?.settled(domain.name)]);
      return;
    }
    domain.patterns.add(pattern);
    domain.data ??= this.subscribeData(domain);
    const data = domain.data;
    await this.announce(domain, true);
    await data;
  }

  /**
   * SSUBSCRIBE of the domain's channel, kept while it holds; a refused one is let go of, so the
   * next holder, sync or recovery probe subscribes again instead of awaiting the same refusal.
   */
  private subscribeData(domain: Domain): Promise<void> {
    const data: Promise<void> = this.sub.ssubscribe(this.dataChannel(domain.name)).then(
      () => undefined,
      (error: unknown) => {
        if (domain.data === data) domain.data = undefined;
        throw error;
      },
    );
    return data;
  }

  async removePattern(pattern: string): Promise<void> {
    if (!this.patterns.remove(pattern)) return;
    const domain = this.domains.get(domainOf(pattern));
    if (!domain) return;
    domain.patterns.delete(pattern);
    if (domain.patterns.size === 0 && domain.data) {
      domain.data = undefined;
      await this.sub.sunsubscribe(this.dataChannel(domain.name));
    }
    await this.announce(domain, false);
  }

  async send(inbox: string, payload: Uint8Array): Promise<number> {
    try {
      const sent = this.pub.spublish(this.inboxChannel(inbox), Buffer.from(payload));
      return Number(await this.inFlight.track(sent));
    } catch (cause) {
      throw new BusError('BUS_UNAVAILABLE', 'Redis unavailable: message not sent', { cause });
    }
  }

  async listen(inbox: string): Promise<void> {
    if (!this.inboxes.add(inbox)) return;
    try {
      await this.sub.ssubscribe(this.inboxChannel(inbox));
    } catch (cause) {
      // Not held, so the caller's next listen subscribes again.
      this.inboxes.remove(inbox);
      throw new BusError('BUS_UNAVAILABLE', `Redis unavailable: not listening on ${inbox}`, {
        cause,
      });
    }
  }

  async unlisten(inbox: string): Promise<void> {
    if (this.inboxes.remove(inbox)) await this.sub.sunsubscribe(this.inboxChannel(inbox));
  }

  holdings(): { patterns: number; inboxes: number } {
    return { patterns: this.patterns.size, inboxes: this.inboxes.size };
  }

  /**
   * Takes this node's interest out of every table, and its heartbeat away (a crashed node's
   * interest is reaped by the others once its heartbeat is old: see `interestReapAfterMs`).
   */
  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.heartbeat);
    clearInterval(this.pings);
    const { interest } = this;
    if (interest) {
      // Every domain this node ever held patterns in: one whose last change (to none) was
      // refused, or is still queued, may still have its entry.
      const left = await Promise.allSettled(
        [...this.domains.values()].map((d) => interest.leave(d.name)),
      );
      // An entry left behind (its shard was away) is reaped by the others once the heartbeat
      // is old: it stays while a leave failed.
      if (left.every((result) => result.status === 'fulfilled')) {
        await interest.forget().catch(() => undefined);
      }
    }
    // QUIT is written at once: what was asked before close() is answered first.
    await this.inFlight.settled();
    await Promise.allSettled([this.pub.quit(), this.sub.quit()]);
    this.pub.disconnect();
    this.sub.disconnect();
  }

  private domainOf(name: string): string {
    const domain = domainOf(name);
    if (!DOMAIN.test(domain)) {
      throw new BusError(
        'BUS_INVALID_NAME',
        `${name}: the first level must be a concrete domain without { or } on a Redis Cluster`,
      );
    }
    return domain;
  }

  private domain(name: string): Domain {
    let domain = this.domains.get(name);
    if (!domain) {
      domain = { name, patterns: new Set(), data: undefined };
      this.domains.set(name, domain);
    }
    return domain;
  }

  private dataChannel(domain: string): string {
    return `${this.prefix}t:{${domain}}`;
  }

  private inboxChannel(inbox: string): string {
    return `${this.prefix}i:${inbox}`;
  }

  /**
   * Whether a message on `topic` must cross Redis: some other node may want it, or (an append,
   * which comes back to its own node too) this node listens. Counted.
   */
  private fanoutWanted(topic: string, toSelf: boolean): boolean {
    const othersWant = this.interest?.wanted(domainOf(topic), topic) ?? true;
    const wanted = othersWant || (toSelf && this.patterns.match(topic).length > 0);
    if (wanted) this.counters.fannedOut += 1;
    else this.counters.skipped += 1;
    return wanted;
  }

  private ping(): void {
    const connections = [...this.pub.nodes('master'), ...shardedSubscriberConnections(this.sub)];
    for (const connection of connections) {
      if (connection.status === 'ready') connection.ping().catch(() => undefined);
    }
  }

  /**
   * The heartbeat: writes this node's, announces its interest again when it lapsed (it may have
   * been reaped meanwhile), makes again the changes of its entry Redis refused, and takes silent
   * nodes out of the tables this node follows.
   */
  private async beat(): Promise<void> {
    const { interest } = this;
    if (!interest || this.closed || this.beating) return;
    interest.unfollowIdle((domain) => this.holds(domain));
    if (this.pub.status !== 'ready') {
      interest.beatMissed();
      return;
    }
    this.beating = true;
    try {
      const beat = await interest.beat();
      if (beat.lapsed) this.announceAgain();
      // An announcement, a removal or a restore Redis refused: sent again with the set held now
      // (a removal nobody retried left the entry, and the tenant followed, for good).
      for (const name of interest.owed()) {
        this.announce(this.domain(name), false).catch(() => undefined);
      }
      // Apart from the beat: a long reap (many tenants) must not delay this node's own beats.
      if (!this.reaping && !this.closed && beat.silent.length > 0) {
        this.reaping = true;
        interest
          .reap(beat)
          .catch(() => (this.counters.beatFailures += 1))
          .finally(() => (this.reaping = false));
      }
    } catch {
      // Counted; a live node's interest is safe meanwhile (see BEAT and `lapsed`).
      this.counters.beatFailures += 1;
    } finally {
      this.beating = false;
    }
  }

  private holds(domain: string): boolean {
    return (this.domains.get(domain)?.patterns.size ?? 0) > 0;
  }

  /** The domains this node holds patterns in (the ones announced, synced, subscribed). */
  private heldDomains(): Domain[] {
    return [...this.domains.values()].filter((d) => d.patterns.size > 0);
  }

  /** A notice says this node holds nothing in the domain: if it does, it was reaped alive. */
  private removedFrom(name: string): void {
    const domain = this.domains.get(name);
    if (this.closed || !this.interest || !domain || domain.patterns.size === 0) return;
    this.interest
      .restore(name, () => domain.patterns)
      .then(
        (restored) => {
          if (restored) this.counters.reannounced += 1;
        },
        // Owed (see ClusterInterest.owed): the next heartbeat announces it.
        () => undefined,
      );
  }

  /** Every domain this node holds patterns in, announced again (its heartbeat lapsed). */
  private announceAgain(): void {
    const held = this.heldDomains();
    if (this.closed || held.length === 0) return;
    this.counters.reannounced += 1;
    for (const domain of held) {
      // Owed when refused: the next heartbeat announces it again.
      this.announce(domain, false).catch(() => undefined);
    }
  }

  /** This node's patterns of the domain, to the other nodes (a join waits for them to know). */
  private announce(domain: Domain, wait: boolean): Promise<void> {
    // Once closing, nothing may land after the leave and put the entry back.
    if (!this.interest || this.closed) return Promise.resolve();
    return this.interest
      .announce(domain.name, () => domain.patterns, wait)
      .catch((cause) => {
        throw new BusError('BUS_UNAVAILABLE', 'Redis unavailable: interest not announced', {
          cause,
        });
      });
  }

  private onShardMessage(channel: string, message: Buffer): void {
    const tagged = /^t:\{(.*)\}$|^x:\{(.*)\}$/.exec(channel.slice(this.prefix.length));
    if (channel.startsWith(`${this.prefix}i:`)) {
      const inbox = channel.slice(this.prefix.length + 2);
      this.deliverInbox(inbox, message);
    } else if (tagged?.[1] !== undefined) {
      this.onDomainMessage(tagged[1], message);
    } else if (tagged?.[2] !== undefined) {
      this.interest?.onControlMessage(tagged[2], message);
    }
  }

  private onDomainMessage(domain: string, message: Buffer): void {
    const frame = parseDomainFrame(message);
    if (!frame) return;
    if (frame.kind === 'sync') {
      if (frame.origin !== this.nodeId) return;
      this.markers.arrived(frame.token);
      return;
    }
    const { origin, topic, payload, position } = frame;
    if (origin === this.nodeId && !position) return;
    if (domainOf(topic) !== domain || this.patterns.match(topic).length === 0) return;
    this.deliverTopic(topic, payload, position);
  }

  /**
   * A slot that moves (resharding, failover) unsubscribes its channels at the old master with a
   * push ioredis does not report; it resubscribes them on the new one when its slot map changes.
   * So a changed map counts as a loss: not ready, tables stale, until the probe passes.
   */
  private refreshed(): void {
    const owners: string[] = [];
    let last: string | undefined;
    this.sub.slots.forEach((nodes, slot) => {
      const owner = nodes?.[0] ?? '';
      if (owner !== last) owners.push(`${slot}:${owner}`);
      last = owner;
    });
    const topology = owners.join(',');
    const changed = this.topology !== undefined && topology !== this.topology;
    this.topology = topology;
    if (changed) this.lost();
  }

  /** A subscription may be gone: nothing is known fresh, and `ready` waits for a probe. */
  private lost(): void {
    if (this.closed) return;
    this.subscribed = false;
    this.interest?.stale();
    this.statusChanged();
    // Not every loss is followed by a 'ready' or 'subscribersReady' event (a pool node replaced
    // without a subscriber change): the probe finds out, and retries until it passes.
    setTimeout(() => this.probe(), 200).unref();
  }

  /**
   * After ioredis (re)subscribed: a sync marker through every domain channel held proves those
   * subscriptions are back; then the tables are read again and this node's interest announced
   * again. Retried until it passes.
   */
  private probe(): void {
    if (this.closed || this.probing || this.subscribed) return;
    if (this.pub.status !== 'ready' || this.sub.status !== 'ready') return;
    this.probing = true;
    // A master restarted without persistence lost the interest tables: announce ours again
    // (acknowledged, so publishers know them before this node says it is ready).
    const announced = Promise.all([this.sync(), ...(this.interest?.refollow() ?? [])]).then(() =>
      Promise.all(this.heldDomains().map((d) => this.announce(d, true))),
    );
    announced.then(
      () => {
        this.probing = false;
        this.subscribed = true;
        this.statusChanged();
      },
      () => {
        this.probing = false;
        if (!this.closed) setTimeout(() => this.probe(), 500).unref();
      },
    );
  }

  private statusChanged(): void {
    const ready = this.ready;
    if (ready === this.wasReady) return;
    this.wasReady = ready;
    this.announceStatus(ready);
  }
}

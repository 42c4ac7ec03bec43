import { PatternIndex } from '@fleetwire/protocol';
import { Redis, type RedisOptions } from 'ioredis';

import { randomBytes } from 'node:crypto';

import { BusListeners } from './bus-listeners.js';
import { BusError, RefCounts, type Bus } from './bus.js';
import type { Appended, HistoryQuery, HistoryRead, Position } from './history.js';
import { RedisHistory } from './redis-history.js';
import {
  REDIS_REPLY_TIMEOUT_MS,
  clearReplyTimersOnClose,
  redisConnectionOptions,
} from './redis-options.js';
import { InFlight } from './in-flight.js';
import { SyncMarkers } from './sync-markers.js';
import { escapeGlob, globOfPattern } from './topic-glob.js';

export interface RedisBusOptions {
  url: string;
  /** Unique per process: the bus skips its own messages by it. */
  nodeId: string;
  /** Prepended to every channel, so several deployments (or test suites) share one Redis. */
  prefix?: string;
  /** A connection silent this long with a command waiting is closed (`redisConnectionOptions`). */
  replyTimeoutMs?: number;
}

const NEWLINE = 0x0a;

/**
 * Redis pub/sub driver. Topic messages go to channel `<prefix>t:<topic>` with a header
 * `<origin> <seq>\n`; nodes PSUBSCRIBE a glob per held pattern. One publish is one PUBLISH
 * whatever the number of subscribers. A node whose several globs match receives the message
 * several times from Redis and keeps the first (origin, seq): per-origin sequences only grow
 * because Redis keeps each publisher's order.
 *
 * An appended message (history, redis-history.ts) goes through one script that writes the
 * stream and publishes with the header `<origin> <seq> <epoch> <offset>\n`; it is delivered to
 * its own node too, so every node sees a domain's messages in position order (one connection).
 * Nodes of an older version read the first two fields and ignore the rest.
 */
export class RedisBus extends BusListeners implements Bus {
  readonly nodeId: string;
  private readonly prefix: string;
  private readonly pub: Redis;
  private readonly sub: Redis;
  private readonly patterns = new PatternIndex();
  private readonly inboxes = new RefCounts();
  /** Distinct patterns can share a glob (`+` and `#` are both `*`). */
  private readonly globs = new RefCounts();
  private readonly globSubscribed = new Map<string, Promise<void>>();
  /** Per origin node: the last sequence delivered, and when (to forget nodes long gone). */
  private readonly lastSeq = new Map<string, { seq: number; at: number }>();
  private delivered = 0;
  private readonly history: RedisHistory;
  private seq = 0;
  /** Markers of sync() in flight; their channel is subscribed on first use. */
  private readonly markers = new SyncMarkers();
  private readonly inFlight = new InFlight();
  private syncSubscribed: Promise<unknown> | undefined;
  private wasReady = false;
  private subscribed = false;
  private readonly heartbeat: NodeJS.Timeout;

  private constructor(options: RedisBusOptions) {
    super();
    this.nodeId = options.nodeId;
    this.prefix = options.prefix ?? 'fw:';
    const replyTimeoutMs = options.replyTimeoutMs ?? REDIS_REPLY_TIMEOUT_MS;
    const common: RedisOptions = redisConnectionOptions(replyTimeoutMs);
    // Publishing while Redis is away fails at once (counted by the caller), instead of
    // queueing without bound.
    this.pub = new Redis(options.url, {
      ...common,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      enableAutoPipelining: true,
    });
    // Subscription changes made during an outage wait for the reconnect; ioredis resubscribes.
    // Named, so `CLIENT LIST` tells which node holds which subscriptions.
    this.sub = new Redis(options.url, {
      ...common,
      maxRetriesPerRequest: null,
      connectionName: `fleetwire-bus:${options.nodeId}`,
    });
    this.history = new RedisHistory(this.pub, this.prefix, randomBytes(6).toString('hex'));
    for (const client of [this.pub, this.sub]) {
      clearReplyTimersOnClose(client);
      client.on('close', () => {
        // Only the subscriber connection holds subscriptions; its 'ready' restores the flag.
        if (client === this.sub) this.subscribed = false;
        this.statusChanged();
      });
      // Connection errors are reported through `ready`; the retry strategy handles them.
      client.on('error', () => undefined);
    }
    this.pub.on('ready', () => this.statusChanged());
    // ioredis emits 'ready' and then, in the same handler, resends the subscriptions. A PING
    // queued after them answers once they are in place, so `ready` means they are back.
    this.sub.on('ready', () => {
      queueMicrotask(() =>
        this.sub.ping().then(
          () => {
            this.subscribed = true;
            this.statusChanged();
          },
          () => undefined,
        ),
      );
    });
    // A connection with nothing to send never waits for an answer, so the reply timeout alone
    // would not notice it went silent: each is pinged twice per timeout (2 commands per node
    // every 2.5 s by default). The subscriber's silence would stop every delivery to this node
    // while it reported itself ready.
    this.heartbeat = setInterval(() => {
      for (const client of [this.pub, this.sub]) {
        if (client.status === 'ready') client.ping().catch(() => undefined);
      }
    }, replyTimeoutMs / 2);
    this.heartbeat.unref();
    this.sub.on('pmessageBuffer', (_glob: Buffer, channel: Buffer, message: Buffer) =>
      this.onPatternMessage(channel, message),
    );
    this.sub.on('messageBuffer', (channel: Buffer, message: Buffer) => {
      if (channel.toString() === this.syncChannel) {
        this.markers.arrived(message.toString());
        return;
      }
      const inbox = channel.toString().slice(this.prefix.length + 2);
      this.deliverInbox(inbox, message);
    });
  }

  static async connect(options: RedisBusOptions): Promise<RedisBus> {
    const bus = new RedisBus(options);
    try {
      await Promise.all([bus.pub.connect(), bus.sub.connect()]);
    } catch (cause) {
      clearInterval(bus.heartbeat);
      bus.pub.disconnect();
      bus.sub.disconnect();
      throw new BusError('BUS_UNAVAILABLE', `cannot connect to Redis at ${options.url}`, { cause });
    }
    await bus.sub.ping();
    bus.subscribed = true;
    bus.statusChanged();
    return bus;
  }

  get ready(): boolean {
    return this.pub.status === 'ready' && this.sub.status === 'ready' && this.subscribed;
  }

  async publish(topic: string, payload: Uint8Array): Promise<void> {
    this.seq += 1;
    const frame = Buffer.concat([Buffer.from(`${this.nodeId} ${this.seq}\n`), payload]);
    try {
      await this.inFlight.track(this.pub.publish(`${this.prefix}t:${topic}`, frame));
    } catch (cause) {
      throw new BusError('BUS_UNAVAILABLE', 'Redis unavailable: message not published', { cause });
    }
  }

  async append(batch: readonly Appended[]): Promise<Position[]> {
    const first = this.seq + 1;
    this.seq += batch.length;
    try {
      return await this.inFlight.track(this.history.append(batch, this.nodeId, first));
    } catch (cause) {
      throw new BusError('BUS_UNAVAILABLE', 'Redis unavailable: message not appended', { cause });
    }
  }

  async readHistory(query: HistoryQuery): Promise<HistoryRead> {
    try {
      return await this.history.read(query);
    } catch (cause) {
      throw new BusError('BUS_UNAVAILABLE', 'Redis unavailable: history not read', { cause });
    }
  }

  private get syncChannel(): string {
    return `${this.prefix}s:${this.nodeId}`;
  }

  /**
   * A marker published to this node's own sync channel: Redis delivers one subscriber
   * connection's messages in the order it ran the PUBLISHes, so when the marker is back, every
   * message published before it has been handed to the topic handlers. Rejects when Redis is
   * away or the marker does not come back within `timeoutMs`. One channel carries every domain:
   * the domain asked for makes no difference.
   */
  async sync(_domain?: string, timeoutMs = 2_000): Promise<void> {
    try {
      this.syncSubscribed ??= this.sub.subscribe(this.syncChannel);
      await this.syncSubscribed;
    } catch (cause) {
      this.syncSubscribed = undefined;
      throw new BusError('BUS_UNAVAILABLE', 'Redis unavailable: no sync', { cause });
    }
    await this.markers.roundTrip((token) => this.pub.publish(this.syncChannel, token), timeoutMs);
  }

  /** Resolves once Redis confirmed the subscription, also for a holder that came second. */
  addPattern(pattern: string): Promise<void> {
    const glob = globOfPattern(pattern);
    // Only a pattern's first holder counts towards its glob: removePattern lets go of the glob
    // when the pattern's last holder leaves.
    if (this.patterns.add(pattern) && this.globs.add(glob)) {
      const subscribed = this.sub
        .psubscribe(`${escapeGlob(this.prefix)}t:${glob}`)
        .then(() => undefined);
      this.globSubscribed.set(glob, subscribed);
      return subscribed;
    }
    return this.globSubscribed.get(glob) ?? Promise.resolve();
  }

  async removePattern(pattern: string): Promise<void> {
    if (!this.patterns.remove(pattern)) return;
    const glob = globOfPattern(pattern);
    if (!this.globs.remove(glob)) return;
    this.globSubscribed.delete(glob);
    await this.sub.punsubscribe(`${escapeGlob(this.prefix)}t:${glob}`);
  }

  async send(inbox: string, payload: Uint8Array): Promise<number> {
    try {
      return await this.inFlight.track(
        this.pub.publish(`${this.prefix}i:${inbox}`, Buffer.from(payload)),
      );
    } catch (cause) {
      throw new BusError('BUS_UNAVAILABLE', 'Redis unavailable: message not sent', { cause });
    }
  }

  async listen(inbox: string): Promise<void> {
    if (this.inboxes.add(inbox)) await this.sub.subscribe(`${this.prefix}i:${inbox}`);
  }

  async unlisten(inbox: string): Promise<void> {
    if (this.inboxes.remove(inbox)) await this.sub.unsubscribe(`${this.prefix}i:${inbox}`);
  }

  holdings(): { patterns: number; inboxes: number } {
    return { patterns: this.patterns.size, inboxes: this.inboxes.size };
  }

  async close(): Promise<void> {
    clearInterval(this.heartbeat);
    // QUIT is written at once: what was asked before close() is answered first.
    await this.inFlight.settled();
    await Promise.allSettled([this.pub.quit(), this.sub.quit()]);
    this.pub.disconnect();
    this.sub.disconnect();
  }

  private onPatternMessage(channel: Buffer, message: Buffer): void {
    const end = message.indexOf(NEWLINE);
    if (end < 0) return;
    const [origin, seqText, epoch, offset] = message.subarray(0, end).toString().split(' ');
    const position = epoch && offset ? { epoch, offset } : undefined;
    if (origin === undefined || (origin === this.nodeId && !position)) return;
    const seq = Number(seqText);
    if (seq <= (this.lastSeq.get(origin)?.seq ?? 0)) return;
    const topic = channel.toString().slice(this.prefix.length + 2);
    if (this.patterns.match(topic).length === 0) return;
    const now = Date.now();
    this.lastSeq.set(origin, { seq, at: now });
    // Every restarted node is a new origin; forget those silent for ten minutes.
    if (++this.delivered % 10_000 === 0) {
      for (const [known, last] of this.lastSeq)
        if (now - last.at > 600_000) this.lastSeq.delete(known);
    }
    const payload = message.subarray(end + 1);
    this.deliverTopic(topic, payload, position);
  }

  private statusChanged(): void {
    const ready = this.ready;
    if (ready === this.wasReady) return;
    this.wasReady = ready;
    this.announceStatus(ready);
  }
}

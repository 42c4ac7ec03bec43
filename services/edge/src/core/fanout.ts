import type { Bus, Position } from '@fleetwire/bus';
import {
  PatternIndex,
  isStreamFrame,
  topicMatches,
  type DeliveryMessage,
  type GapMessage,
} from '@fleetwire/protocol';

import type { EdgeMetrics } from '../metrics.js';
import type { BusOutbox } from './bus-outbox.js';
import type { Connection, LocalDelivery } from './connection.js';
import type { DependencyFailures } from './dependency-failures.js';
import type { HistoryPolicy } from './history-policy.js';
import type { NodeMessageGate } from './node-message-gate.js';
import {
  checkRelayFrame,
  decodeDelivery,
  decodeTopicMessage,
  decodeWideGap,
  encodeDelivery,
  inbox,
} from './node-messages.js';
import type { Outbound } from './outbound.js';
import { addPattern, deletePattern } from './session.js';

/** History mode: positions, the outbox to the bus, retention. */
export interface FanoutHistory {
  policy: HistoryPolicy;
  outbox: BusOutbox;
}

/** A subscription made but not yet joined: what it would have received is kept, in order. */
export interface Hold {
  conn: Connection;
  pattern: string;
  key: string;
  messages: (DeliveryMessage | GapMessage)[];
  /** More arrived than the limits: the recovery cannot be complete. */
  overflow: boolean;
  limit: number;
  /** Payload bytes kept (and HELD_MESSAGE_BYTES per message), and how many may be. */
  bytes: number;
  maxBytes: number;
}

/** What a kept message costs beyond its payload (the object, its copy per hold). */
const HELD_MESSAGE_BYTES = 128;

/** Clocks of two nodes differ: gap ranges of a lost bus are this much wider on each side. */
const GAP_MARGIN_MS = 1000;

/**
 * Delivery to subscribers wherever they are connected.
 *
 * On this node a subscription is a lane topic (`acme/devices/+/telemetry` in the connection's
 * lane) that the transport delivers natively: each message is encoded once per lane and written
 * to every connection of the pattern by the transport (uWS topics, in C++). The PatternIndex
 * answers which patterns a concrete topic reaches. A connection holding two overlapping patterns
 * receives the message once per pattern, as MQTT brokers do.
 *
 * Across nodes it uses the bus: each publish crosses it once, and the bus holds a pattern for
 * as long as a local connection does, so a node only hears what its connections need.
 *
 * In history mode every publish goes through the bus outbox and is delivered when it comes back
 * from the bus with its position, on this node too, so every subscriber of a node sees a
 * tenant's messages in position order. A node that lost the bus tells each subscriber the time
 * range it may have missed (`gap`), as it does for a gap another node announced. Stream chunks
 * (publishStream) and a stream's opening and end (publishLive) stay live relays in both modes:
 * published, never appended, without position, so they are neither recovered nor covered by a
 * gap (a listener that missed chunks missed them), and the announcements keep their place around
 * the chunks.
 */
export class Fanout {
  private readonly indexes = new Map<string, PatternIndex>();
  private readonly subscribers = new Set<Connection>();
  private readonly holds = new Set<Hold>();
  /** When this node lost the bus (history mode), until it is back. */
  private busLostAt: number | undefined;
  /**
   * Connections by qualified pattern, for stream chunks: they are written per connection (not
   * through the transport's topics) so a slow listener's chunks can be dropped and counted.
   */
  private readonly members = new Map<string, Set<Connection>>();

  constructor(
    private readonly local: LocalDelivery,
    private readonly metrics: EdgeMetrics,
    private readonly gate: NodeMessageGate,
    private readonly failures: DependencyFailures,
    private readonly outbound: Outbound,
    private readonly bus?: Bus,
    readonly history?: FanoutHistory,
  ) {
    for (const lane of local.lanes) this.indexes.set(lane, new PatternIndex());
    bus?.onTopicMessage((topic, payload, position) => this.fromBus(topic, payload, position));
    if (bus && history) {
      bus.onStatus((ready) => this.busStatus(ready));
      bus.onInboxMessage((name, payload) => {
        if (name === inbox.gaps) this.fromGapInbox(payload);
      });
      bus.listen(inbox.gaps).catch((error: unknown) => this.busFailed(error, 'listen'));
    }
  }

  /** Distinct (lane, pattern) pairs subscribed on this node: zero when nobody listens. */
  get patternCount(): number {
    let count = 0;
    for (const index of this.indexes.values()) count += index.size;
    return count;
  }

  /** Subscriptions waiting for their recovery (zero at rest). */
  get holdCount(): number {
    return this.holds.size;
  }

  /**
   * Resolves once the subscription holds cluster-wide (the bus confirmed it), so an ack sent
   * then means: whatever is published from now on, on any node, arrives. A bus failure is
   * logged and resolves too: the local subscription works, and the bus resubscribes on return.
   */
  subscribe(conn: Connection, pattern: string): Promise<void> {
    return this.add(conn, pattern, true);
  }

  /**
   * Subscribes without joining: deliveries for it are kept in the returned hold until join().
   * Resolves once the bus holds the pattern.
   */
  async hold(conn: Connection, pattern: string, limit: number, maxBytes: number): Promise<Hold> {
    const key = `${conn.session.identity.tenant}/${pattern}`;
    const hold: Hold = {
      conn,
      pattern,
      key,
      messages: [],
      overflow: false,
      limit,
      bytes: 0,
      maxBytes,
    };
    this.holds.add(hold);
    await this.add(conn, pattern, false);
    return hold;
  }

  /** Whether the hold is still waiting (not ended, its subscription not dropped meanwhile). */
  holding(hold: Hold): boolean {
    return this.holds.has(hold);
  }

  /**
   * Ends a hold: from now on the transport delivers the subscription natively. False when the
   * subscription is gone meanwhile (unsubscribed, connection closed): nothing to deliver.
   */
  join(hold: Hold): boolean {
    if (!this.holds.delete(hold)) return false;
    const { conn, pattern, key } = hold;
    if (conn.session.closed || !conn.session.patterns.has(pattern)) return false;
    conn.join(key);
    return true;
  }

  /** `joined`: false once the connection closed (a closed connection left its topics). */
  unsubscribe(conn: Connection, pattern: string, joined = true): void {
    const { session } = conn;
    if (!deletePattern(session, pattern)) return;
    const key = `${session.identity.tenant}/${pattern}`;
    this.indexOf(conn.lane).remove(key);
    const held = this.holdOf(conn, pattern);
    if (held) this.holds.delete(held);
    else if (joined) conn.leave(key);
    if (session.patterns.size === 0) this.subscribers.delete(conn);
    const members = this.members.get(key);
    members?.delete(conn);
    if (members?.size === 0) this.members.delete(key);
    this.bus?.removePattern(key).catch((error: unknown) => this.busFailed(error, 'unsubscribe'));
  }

  /** Forgets a closed connection's patterns. */
  release(conn: Connection): void {
    for (const pattern of [...conn.session.patterns]) this.unsubscribe(conn, pattern, false);
  }

  /** Delivers on this node and, through the bus, on every other node. */
  publish(tenant: string, message: DeliveryMessage, received: number): void {
    if (this.history) {
      const retention = this.history.policy.retentionOf(message.topic);
      this.history.outbox.push(
        `${tenant}/${message.topic}`,
        encodeDelivery(message),
        retention,
        message.ts,
      );
      return;
    }
    this.relay(tenant, message, received);
  }

  /**
   * A message that travels with a stream's chunks, outside history in either mode (a stream's
   * opening and end): delivered here at once and published to the other nodes as the chunks are,
   * so every listener gets the opening before the chunks and the end after them. It has no
   * position, is not recovered and no gap covers it.
   */
  publishLive(tenant: string, message: DeliveryMessage, received: number): void {
    if (this.history) this.keepHeld(`${tenant}/${message.topic}`, message);
    this.relay(tenant, message, received);
  }

  private relay(tenant: string, message: DeliveryMessage, received: number): void {
    const topic = `${tenant}/${message.topic}`;
    if (this.deliverLocally(tenant, message) > 0) {
      this.metrics.deliverLatency.observe({ path: 'local' }, (performance.now() - received) / 1000);
    }
    if (!this.bus) return;
    this.bus.publish(topic, encodeDelivery(message)).catch((error: unknown) => {
      this.metrics.busUndelivered.inc();
      this.busFailed(error, 'publish');
    });
  }

  /** A gap to every subscription of `conn` (or of its tenant) whose pattern matches the topic. */
  private gapToSubscribers(tenant: string, gap: GapMessage, everyPattern = false): void {
    for (const conn of this.subscribers) {
      if (conn.session.identity.tenant !== tenant) continue;
      for (const pattern of conn.session.patterns) {
        if (!everyPattern && !topicMatches(pattern, gap.topic)) continue;
        const notice: GapMessage = everyPattern
          ? { ...gap, topic: pattern, sub: pattern }
          : { ...gap, sub: pattern };
        const held = this.holdOf(conn, pattern);
        if (held) this.keep(held, notice);
        else this.outbound.send(conn, notice);
        this.metrics.gaps.inc({ reason: gap.reason });
      }
    }
  }

  /**
   * A stream relay frame (header + payload, see packages/protocol stream-frame.ts) to every
   * subscriber of the topic here, once per connection however many of its patterns match, and
   * through the bus to the other nodes as the same bytes.
   */
  publishStream(tenant: string, topic: string, frame: Uint8Array): void {
    this.deliverStream(`${tenant}/${topic}`, frame);
    this.bus?.publish(`${tenant}/${topic}`, frame).catch((error: unknown) => {
      this.metrics.busUndelivered.inc();
      this.busFailed(error, 'publish');
    });
  }

  private deliverStream(key: string, frame: Uint8Array): void {
    const reached = new Set<Connection>();
    for (const index of this.indexes.values()) {
      for (const pattern of index.match(key)) {
        for (const conn of this.members.get(pattern) ?? []) reached.add(conn);
      }
    }
    for (const conn of reached) {
      if (!conn.writeStream) continue;
      if (conn.writeStream(frame)) this.metrics.streamChunksOut.inc();
      else this.metrics.streamDrops.inc({ reason: 'slow_listener' });
    }
  }

  private fromBus(qualifiedTopic: string, payload: Buffer, position?: Position): void {
    if (isStreamFrame(payload)) {
      // Checked as any node message: a relay frame whose topic is not the channel's is dropped.
      const checked = this.gate.accept(() => {
        checkRelayFrame(payload, qualifiedTopic);
        return true;
      }, qualifiedTopic);
      if (checked) this.deliverStream(qualifiedTopic, payload);
      return;
    }
    const tenant = qualifiedTopic.slice(0, qualifiedTopic.indexOf('/'));
    if (!this.history) {
      const message = this.gate.accept(() => decodeDelivery(payload), qualifiedTopic);
      if (message) this.deliverRemote(tenant, message);
      return;
    }
    const message = this.gate.accept(() => decodeTopicMessage(payload), qualifiedTopic);
    if (!message) return;
    const pos = position ? { pos: `${position.epoch}:${position.offset}` } : {};
    if (message.type === 'gap') {
      this.gapToSubscribers(tenant, { ...message, ...pos });
      return;
    }
    const delivery: DeliveryMessage = { ...message, ...pos };
    this.keepHeld(qualifiedTopic, delivery, payload.byteLength);
    this.deliverRemote(tenant, delivery);
  }

  /** A delivery to the subscriptions waiting for their recovery that it is for. */
  private keepHeld(qualifiedTopic: string, delivery: DeliveryMessage, bytes = 0): void {
    if (this.holds.size === 0) return;
    for (const held of this.holds) {
      if (topicMatches(held.key, qualifiedTopic))
        this.keep(held, { ...delivery, sub: held.pattern }, bytes);
    }
  }

  private deliverRemote(tenant: string, message: DeliveryMessage): void {
    if (this.deliverLocally(tenant, message) > 0) {
      // Wall clocks of two nodes: good to the clock skew between them.
      this.metrics.deliverLatency.observe(
        { path: 'remote' },
        Math.max(0, Date.now() - message.ts) / 1000,
      );
    }
  }

  private fromGapInbox(payload: Buffer): void {
    const gap = this.gate.accept(() => decodeWideGap(payload), inbox.gaps);
    if (!gap) return;
    const { tenant, from, to, count } = gap;
    this.gapToSubscribers(
      tenant,
      { type: 'gap', topic: '#', from, to, reason: 'outbox_full', count },
      true,
    );
  }

  /**
   * Messages published while this node was off the bus never reached it: every subscription
   * here gets the range (history mode; a subscriber recovers it from the read API).
   */
  private busStatus(ready: boolean): void {
    if (!ready) {
      this.busLostAt ??= Date.now();
      return;
    }
    const lostAt = this.busLostAt;
    if (lostAt === undefined) return;
    this.busLostAt = undefined;
    const range = { from: lostAt - GAP_MARGIN_MS, to: Date.now() + GAP_MARGIN_MS };
    const tenants = new Set([...this.subscribers].map((c) => c.session.identity.tenant));
    for (const tenant of tenants) {
      this.gapToSubscribers(
        tenant,
        { type: 'gap', topic: '#', ...range, reason: 'bus_unavailable' },
        true,
      );
    }
  }

  private add(conn: Connection, pattern: string, join: boolean): Promise<void> {
    const { session } = conn;
    if (!addPattern(session, pattern)) return Promise.resolve();
    this.subscribers.add(conn);
    const key = `${session.identity.tenant}/${pattern}`;
    this.indexOf(conn.lane).add(key);
    if (join) conn.join(key);
    // Stream chunks are live relays, not history: a held subscription gets them at once.
    let members = this.members.get(key);
    if (!members) {
      members = new Set();
      this.members.set(key, members);
    }
    members.add(conn);
    if (!this.bus) return Promise.resolve();
    return this.bus.addPattern(key).catch((error: unknown) => this.busFailed(error, 'subscribe'));
  }

  /**
   * Bounded by count and bytes: a dashboard holding many subscriptions that wait for their turn
   * to recover on a busy tenant would otherwise keep their share of its traffic meanwhile. Once
   * over, nothing more is kept (the recovery fails with `too_many`, whose range covers the rest).
   */
  private keep(held: Hold, message: DeliveryMessage | GapMessage, bytes = 0): void {
    const cost = bytes + HELD_MESSAGE_BYTES;
    if (held.overflow || held.messages.length >= held.limit || held.bytes + cost > held.maxBytes) {
      held.overflow = true;
      return;
    }
    held.messages.push(message);
    held.bytes += cost;
  }

  private holdOf(conn: Connection, pattern: string): Hold | undefined {
    if (this.holds.size === 0) return undefined;
    for (const held of this.holds) if (held.conn === conn && held.pattern === pattern) return held;
    return undefined;
  }

  /** Returns the number of connections the message goes to (the transport counts them out). */
  private deliverLocally(tenant: string, message: DeliveryMessage): number {
    const key = `${tenant}/${message.topic}`;
    let deliveries = 0;
    for (const [lane, index] of this.indexes) {
      const patterns = index.match(key);
      if (patterns.length === 0) continue;
      deliveries += this.local.deliver(lane, patterns, message);
    }
    return deliveries;
  }

  private indexOf(lane: string): PatternIndex {
    const index = this.indexes.get(lane);
    if (!index) throw new Error(`no fan-out lane ${lane}`);
    return index;
  }

  private busFailed(error: unknown, operation: string): void {
    this.failures.failed('bus', operation, error);
  }
}

import type { Bus } from '@fleetwire/bus';
import { PatternIndex, isStreamFrame, type DeliveryMessage } from '@fleetwire/protocol';

import type { EdgeMetrics } from '../metrics.js';
import type { Connection, LocalDelivery } from './connection.js';
import type { DependencyFailures } from './dependency-failures.js';
import type { NodeMessageGate } from './node-message-gate.js';
import { checkRelayFrame, decodeDelivery, encodeDelivery } from './node-messages.js';

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
 */
export class Fanout {
  private readonly indexes = new Map<string, PatternIndex>();
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
    private readonly bus?: Bus,
  ) {
    for (const lane of local.lanes) this.indexes.set(lane, new PatternIndex());
    bus?.onTopicMessage((topic, payload) => this.fromBus(topic, payload));
  }

  /** Distinct (lane, pattern) pairs subscribed on this node: zero when nobody listens. */
  get patternCount(): number {
    let count = 0;
    for (const index of this.indexes.values()) count += index.size;
    return count;
  }

  /**
   * Resolves once the subscription holds cluster-wide (the bus confirmed it), so an ack sent
   * then means: whatever is published from now on, on any node, arrives. A bus failure is
   * logged and resolves too: the local subscription works, and the bus resubscribes on return.
   */
  subscribe(conn: Connection, pattern: string): Promise<void> {
    const { session } = conn;
    if (session.patterns.has(pattern)) return Promise.resolve();
    session.patterns.add(pattern);
    const key = `${session.identity.tenant}/${pattern}`;
    this.indexOf(conn.lane).add(key);
    conn.join(key);
    let members = this.members.get(key);
    if (!members) {
      members = new Set();
      this.members.set(key, members);
    }
    members.add(conn);
    if (!this.bus) return Promise.resolve();
    return this.bus.addPattern(key).catch((error: unknown) => this.busFailed(error, 'subscribe'));
  }

  /** `joined`: false once the connection closed (a closed connection left its topics). */
  unsubscribe(conn: Connection, pattern: string, joined = true): void {
    const { session } = conn;
    if (!session.patterns.delete(pattern)) return;
    const key = `${session.identity.tenant}/${pattern}`;
    this.indexOf(conn.lane).remove(key);
    if (joined) conn.leave(key);
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
    if (this.deliverLocally(tenant, message) > 0) {
      this.metrics.deliverLatency.observe({ path: 'local' }, (performance.now() - received) / 1000);
    }
    if (!this.bus) return;
    this.bus
      .publish(`${tenant}/${message.topic}`, encodeDelivery(message))
      .catch((error: unknown) => {
        this.metrics.busUndelivered.inc();
        this.busFailed(error, 'publish');
      });
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

  private fromBus(qualifiedTopic: string, payload: Buffer): void {
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
    const message = this.gate.accept(() => decodeDelivery(payload), qualifiedTopic);
    if (!message) return;
    if (this.deliverLocally(tenant, message) > 0) {
      // Wall clocks of two nodes: good to the clock skew between them.
      this.metrics.deliverLatency.observe(
        { path: 'remote' },
        Math.max(0, Date.now() - message.ts) / 1000,
      );
    }
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

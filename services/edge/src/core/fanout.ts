import type { Bus } from '@fleetwire/bus';
import {
  WRAPPED_DECODE_LIMITS,
  decodeJson,
  encodeMessage,
  PatternIndex,
  type DeliveryMessage,
  type WireFormat,
} from '@fleetwire/protocol';
import type { Logger } from 'pino';
import type { TemplatedApp } from 'uWebSockets.js';

import type { EdgeMetrics } from './metrics.js';
import type { EdgeSocket, Session } from './session.js';

const FORMATS: readonly WireFormat[] = ['json', 'msgpack'];

/**
 * Delivery to subscribers wherever they are connected.
 *
 * On this node it uses uWS's native topics: a uWS topic is one subscribed pattern in one wire
 * format (`json|acme/devices/+/telemetry`), so each frame is encoded once per format and uWS
 * writes it to every socket of the pattern in C++. The PatternIndex answers which patterns a
 * concrete topic reaches. A socket holding two overlapping patterns receives the message once
 * per pattern, as MQTT brokers do.
 *
 * Across nodes it uses the bus: each publish crosses it once, and the bus holds a pattern for
 * as long as a local socket does, so a node only hears what its sockets need.
 */
export class Fanout {
  private readonly indexes: Record<WireFormat, PatternIndex> = {
    json: new PatternIndex(),
    msgpack: new PatternIndex(),
  };

  constructor(
    private readonly app: TemplatedApp,
    private readonly metrics: EdgeMetrics,
    private readonly logger: Logger,
    private readonly bus?: Bus,
  ) {
    bus?.onTopicMessage((topic, payload) => this.fromBus(topic, payload));
  }

  /** Distinct (format, pattern) pairs subscribed on this node: zero when nobody listens. */
  get patternCount(): number {
    return this.indexes.json.size + this.indexes.msgpack.size;
  }

  /**
   * Resolves once the subscription holds cluster-wide (the bus confirmed it), so an ack sent
   * then means: whatever is published from now on, on any node, arrives. A bus failure is
   * logged and resolves too: the local subscription works, and the bus resubscribes on return.
   */
  subscribe(ws: EdgeSocket, session: Session, pattern: string): Promise<void> {
    if (session.patterns.has(pattern)) return Promise.resolve();
    session.patterns.add(pattern);
    const key = `${session.identity.tenant}/${pattern}`;
    this.indexes[session.format].add(key);
    ws.subscribe(`${session.format}|${key}`);
    if (!this.bus) return Promise.resolve();
    return this.bus.addPattern(key).catch((error: unknown) => this.busFailed(error, 'subscribe'));
  }

  unsubscribe(ws: EdgeSocket | undefined, session: Session, pattern: string): void {
    if (!session.patterns.delete(pattern)) return;
    const key = `${session.identity.tenant}/${pattern}`;
    this.indexes[session.format].remove(key);
    // A closed socket has already left its uWS topics.
    ws?.unsubscribe(`${session.format}|${key}`);
    this.bus?.removePattern(key).catch((error: unknown) => this.busFailed(error, 'unsubscribe'));
  }

  /** Forgets a closed connection's patterns. */
  release(session: Session): void {
    for (const pattern of [...session.patterns]) this.unsubscribe(undefined, session, pattern);
  }

  /** Delivers on this node and, through the bus, on every other node. */
  publish(tenant: string, message: DeliveryMessage, received: number): void {
    if (this.deliverLocally(tenant, message) > 0) {
      this.metrics.deliverLatency.observe({ path: 'local' }, (performance.now() - received) / 1000);
    }
    if (!this.bus) return;
    this.bus
      .publish(`${tenant}/${message.topic}`, Buffer.from(JSON.stringify(message)))
      .catch((error: unknown) => {
        this.metrics.busUndelivered.inc();
        this.busFailed(error, 'publish');
      });
  }

  private fromBus(qualifiedTopic: string, payload: Buffer): void {
    const tenant = qualifiedTopic.slice(0, qualifiedTopic.indexOf('/'));
    let message: DeliveryMessage;
    try {
      message = decodeJson(payload, WRAPPED_DECODE_LIMITS) as DeliveryMessage;
    } catch (error) {
      this.logger.error({ err: error, topic: qualifiedTopic }, 'undecodable bus message dropped');
      return;
    }
    if (this.deliverLocally(tenant, message) > 0) {
      // Wall clocks of two nodes: good to the clock skew between them.
      this.metrics.deliverLatency.observe(
        { path: 'remote' },
        Math.max(0, Date.now() - message.ts) / 1000,
      );
    }
  }

  /** Returns the number of sockets the message was handed to. */
  private deliverLocally(tenant: string, message: DeliveryMessage): number {
    const key = `${tenant}/${message.topic}`;
    let deliveries = 0;
    for (const format of FORMATS) {
      const patterns = this.indexes[format].match(key);
      if (patterns.length === 0) continue;
      const frame = encodeMessage(message, format);
      const bytes = typeof frame === 'string' ? Buffer.byteLength(frame) : frame.byteLength;
      for (const pattern of patterns) {
        const topic = `${format}|${pattern}`;
        const subscribers = this.app.numSubscribers(topic);
        this.app.publish(topic, frame, format === 'msgpack');
        deliveries += subscribers;
        this.metrics.bytesOut.inc(bytes * subscribers);
      }
    }
    if (deliveries > 0) this.metrics.messagesOut.inc({ kind: 'message' }, deliveries);
    return deliveries;
  }

  private busFailed(error: unknown, operation: string): void {
    this.logger.warn({ err: error, operation }, 'bus operation failed');
  }
}

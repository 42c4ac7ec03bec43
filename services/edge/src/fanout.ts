import {
  encodeMessage,
  PatternIndex,
  type DeliveryMessage,
  type WireFormat,
} from '@fleetwire/protocol';
import type { TemplatedApp } from 'uWebSockets.js';

import type { EdgeMetrics } from './metrics.js';
import type { EdgeSocket, Session } from './session.js';

const FORMATS: readonly WireFormat[] = ['json', 'msgpack'];

/**
 * Same-node delivery on uWS's native topics. A uWS topic is one subscribed pattern in one wire
 * format (`json|acme/devices/+/telemetry`), so each frame is encoded once per format and uWS
 * writes it to every socket of the pattern in C++. The PatternIndex answers which patterns a
 * concrete topic reaches. A socket holding two overlapping patterns receives the message once
 * per pattern, as MQTT brokers do.
 */
export class LocalFanout {
  private readonly indexes: Record<WireFormat, PatternIndex> = {
    json: new PatternIndex(),
    msgpack: new PatternIndex(),
  };

  constructor(
    private readonly app: TemplatedApp,
    private readonly metrics: EdgeMetrics,
  ) {}

  /** Distinct (format, pattern) pairs subscribed on this node: zero when nobody listens. */
  get patternCount(): number {
    return this.indexes.json.size + this.indexes.msgpack.size;
  }

  subscribe(ws: EdgeSocket, session: Session, pattern: string): void {
    if (session.patterns.has(pattern)) return;
    session.patterns.add(pattern);
    const key = `${session.identity.tenant}/${pattern}`;
    this.indexes[session.format].add(key);
    ws.subscribe(`${session.format}|${key}`);
  }

  unsubscribe(ws: EdgeSocket | undefined, session: Session, pattern: string): void {
    if (!session.patterns.delete(pattern)) return;
    const key = `${session.identity.tenant}/${pattern}`;
    this.indexes[session.format].remove(key);
    // A closed socket has already left its uWS topics.
    ws?.unsubscribe(`${session.format}|${key}`);
  }

  /** Forgets a closed connection's patterns. */
  release(session: Session): void {
    for (const pattern of [...session.patterns]) this.unsubscribe(undefined, session, pattern);
  }

  /** Delivers to every local subscriber of `tenant`/`message.topic`; returns the socket count. */
  publish(tenant: string, message: DeliveryMessage): number {
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
}

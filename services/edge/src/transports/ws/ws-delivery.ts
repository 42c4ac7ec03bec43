import { encodeMessage, type DeliveryMessage, type WireFormat } from '@fleetwire/protocol';
import type { TemplatedApp } from 'uWebSockets.js';

import type { LocalDelivery } from '../../core/connection.js';
import type { EdgeMetrics } from '../../metrics.js';

const LANES: readonly WireFormat[] = ['json', 'msgpack'];

/**
 * Fan-out to this node's WebSockets through uWS's native topics: a uWS topic is one pattern in
 * one format (`json|acme/devices/+/telemetry`), so a delivery is encoded once per format and uWS
 * writes it to every socket of the topic in C++.
 */
export class WsDelivery implements LocalDelivery {
  readonly lanes = LANES;

  transportOf(): string {
    return 'ws';
  }

  constructor(
    private readonly app: TemplatedApp,
    private readonly metrics: EdgeMetrics,
  ) {}

  deliver(lane: string, topics: readonly string[], message: DeliveryMessage): number {
    const format = lane as WireFormat;
    const frame = encodeMessage(message, format);
    const bytes = typeof frame === 'string' ? Buffer.byteLength(frame) : frame.byteLength;
    let deliveries = 0;
    for (const topic of topics) {
      const uwsTopic = `${format}|${topic}`;
      const subscribers = this.app.numSubscribers(uwsTopic);
      this.app.publish(uwsTopic, frame, format === 'msgpack');
      deliveries += subscribers;
      this.metrics.bytesOut.inc({ transport: 'ws' }, bytes * subscribers);
    }
    return deliveries;
  }
}

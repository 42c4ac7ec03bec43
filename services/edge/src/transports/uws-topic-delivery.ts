import type { DeliveryMessage } from '@fleetwire/protocol';
import type { TemplatedApp } from 'uWebSockets.js';

import type { LocalDelivery } from '../core/connection.js';
import type { EdgeMetrics } from '../metrics.js';

/** One fan-out lane: the transport it belongs to, and how a delivery is encoded for it. */
export interface DeliveryLane {
  transport: string;
  encode(message: DeliveryMessage): { frame: string | Uint8Array; binary: boolean };
}

/**
 * Fan-out to this node's connections through uWS's native topics, for every transport on the
 * app: a uWS topic is one lane and one pattern (`json|acme/devices/+/telemetry`,
 * `mqtt5|acme/…`), so a delivery is encoded once per lane and uWS writes the frame to every
 * subscriber of the topic in C++.
 */
export class UwsTopicDelivery implements LocalDelivery {
  readonly lanes: readonly string[];
  private readonly byLane: ReadonlyMap<string, DeliveryLane>;

  constructor(
    private readonly app: TemplatedApp,
    private readonly metrics: EdgeMetrics,
    lanes: Readonly<Record<string, DeliveryLane>>,
  ) {
    this.byLane = new Map(Object.entries(lanes));
    this.lanes = [...this.byLane.keys()];
  }

  transportOf(lane: string): string {
    return this.byLane.get(lane)?.transport ?? 'unknown';
  }

  deliver(lane: string, topics: readonly string[], message: DeliveryMessage): number {
    const spec = this.byLane.get(lane);
    if (!spec) throw new Error(`no fan-out lane ${lane}`);
    const { frame, binary } = spec.encode(message);
    const bytes = typeof frame === 'string' ? Buffer.byteLength(frame) : frame.byteLength;
    let deliveries = 0;
    for (const topic of topics) {
      const uwsTopic = `${lane}|${topic}`;
      const subscribers = this.app.numSubscribers(uwsTopic);
      this.app.publish(uwsTopic, frame, binary);
      deliveries += subscribers;
      this.metrics.bytesOut.inc({ transport: spec.transport }, bytes * subscribers);
    }
    return deliveries;
  }
}

import type { DeliveryMessage } from '@fleetwire/protocol';
import type { TemplatedApp } from 'uWebSockets.js';

import type { LocalDelivery } from '../core/connection.js';
import type { EdgeMetrics } from '../metrics.js';
import { TickPublisher, type HeldPublishes } from './tick-publisher.js';

/** One fan-out lane: the transport it belongs to, and how a delivery is encoded for it. */
export interface DeliveryLane {
  transport: string;
  encode(message: DeliveryMessage): { frame: string | Uint8Array; binary: boolean };
}

/**
 * Fan-out to this node's connections through uWS's native topics, for every transport on the
 * app: a uWS topic is one lane and one pattern (`json|acme/devices/+/telemetry`,
 * `mqtt5|acme/…`), so a delivery is encoded once per lane and uWS writes the frame to every
 * subscriber of the topic in C++. The publishes of a tick are made at its end (TickPublisher),
 * where uWS writes each subscriber's messages together; deliveries and bytes are counted then,
 * against the subscribers each publish reached.
 */
export class UwsTopicDelivery implements LocalDelivery, HeldPublishes {
  readonly lanes: readonly string[];
  private readonly byLane: ReadonlyMap<string, DeliveryLane>;
  private readonly publisher: TickPublisher;

  constructor(
    private readonly app: TemplatedApp,
    private readonly metrics: EdgeMetrics,
    lanes: Readonly<Record<string, DeliveryLane>>,
  ) {
    this.byLane = new Map(Object.entries(lanes));
    this.lanes = [...this.byLane.keys()];
    this.publisher = new TickPublisher(({ topic, frame, binary, transport }) => {
      const subscribers = this.app.numSubscribers(topic);
      if (subscribers === 0) return;
      this.app.publish(topic, frame, binary);
      const bytes = typeof frame === 'string' ? Buffer.byteLength(frame) : frame.byteLength;
      this.metrics.messagesOutOf.get('message', transport).inc(subscribers);
      this.metrics.bytesOutOf.get(transport).inc(bytes * subscribers);
    });
  }

  /** Makes the publishes held for the end of this tick now (see HeldPublishes). */
  flush(): void {
    this.publisher.flush();
  }

  /** Publishes held for the end of this tick (tests read it to see a batch form). */
  get pendingPublishes(): number {
    return this.publisher.pending;
  }

  deliver(lane: string, topics: readonly string[], message: DeliveryMessage): number {
    const spec = this.byLane.get(lane);
    if (!spec) throw new Error(`no fan-out lane ${lane}`);
    let subscribers = 0;
    let encoded: { frame: string | Uint8Array; binary: boolean } | undefined;
    for (const topic of topics) {
      const uwsTopic = `${lane}|${topic}`;
      const count = this.app.numSubscribers(uwsTopic);
      if (count === 0) continue;
      encoded ??= spec.encode(message);
      subscribers += count;
      this.publisher.publish({ topic: uwsTopic, ...encoded, transport: spec.transport });
    }
    return subscribers;
  }
}

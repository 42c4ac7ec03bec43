import type { DeliveryMessage } from '@fleetwire/protocol';
import { generate } from 'mqtt-packet';
import type { TemplatedApp } from 'uWebSockets.js';

import type { LocalDelivery } from '../../core/connection.js';
import type { EdgeMetrics } from '../../metrics.js';
import type { MqttVersion } from './mqtt-codes.js';

/** Fan-out lanes of MQTT connections: a PUBLISH is encoded differently for 3.1.1 and 5.0. */
export const MQTT_LANES = ['mqtt4', 'mqtt5'] as const;
export type MqttLane = (typeof MQTT_LANES)[number];

export const laneOf = (version: MqttVersion): MqttLane => (version === 5 ? 'mqtt5' : 'mqtt4');

/**
 * A delivery as an MQTT PUBLISH: QoS 0, on the concrete (tenant-relative) topic, with the
 * published JSON value as the payload. Every subscriber of a lane gets the same bytes.
 */
export function deliveryPacket(message: DeliveryMessage, version: MqttVersion): Buffer {
  return generate(
    {
      cmd: 'publish',
      qos: 0,
      dup: false,
      retain: false,
      topic: message.topic,
      payload: JSON.stringify(message.data),
    },
    { protocolVersion: version },
  );
}

/**
 * Fan-out to this node's MQTT connections through uWS's native topics, as for WebSocket: one
 * uWS topic per lane and pattern (`mqtt5|acme/devices/+/telemetry`), one encoding per lane, and
 * uWS writes the binary frame to every subscriber in C++.
 */
export class MqttDelivery implements LocalDelivery {
  readonly lanes = MQTT_LANES;

  transportOf(): string {
    return 'mqtt';
  }

  constructor(
    private readonly app: TemplatedApp,
    private readonly metrics: EdgeMetrics,
  ) {}

  deliver(lane: string, topics: readonly string[], message: DeliveryMessage): number {
    const packet = deliveryPacket(message, lane === 'mqtt5' ? 5 : 4);
    let deliveries = 0;
    for (const topic of topics) {
      const uwsTopic = `${lane}|${topic}`;
      const subscribers = this.app.numSubscribers(uwsTopic);
      this.app.publish(uwsTopic, packet, true);
      deliveries += subscribers;
      this.metrics.bytesOut.inc({ transport: 'mqtt' }, packet.byteLength * subscribers);
    }
    return deliveries;
  }
}

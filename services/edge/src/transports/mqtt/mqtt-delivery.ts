import type { DeliveryMessage } from '@fleetwire/protocol';
import { generate } from 'mqtt-packet';

import type { DeliveryLane } from '../uws-topic-delivery.js';
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

/** The MQTT transport's fan-out lanes: a PUBLISH per protocol level, in binary frames. */
export const MQTT_DELIVERY_LANES: Readonly<Record<MqttLane, DeliveryLane>> = {
  mqtt4: {
    transport: 'mqtt',
    encode: (message) => ({ frame: deliveryPacket(message, 4), binary: true }),
  },
  mqtt5: {
    transport: 'mqtt',
    encode: (message) => ({ frame: deliveryPacket(message, 5), binary: true }),
  },
};

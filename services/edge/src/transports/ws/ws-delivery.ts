import { encodeMessage } from '@fleetwire/protocol';

import type { DeliveryLane } from '../uws-topic-delivery.js';

/** The WebSocket transport's fan-out lanes: one per wire format, text or binary frames. */
export const WS_DELIVERY_LANES: Readonly<Record<string, DeliveryLane>> = {
  json: {
    transport: 'ws',
    encode: (message) => ({ frame: encodeMessage(message, 'json'), binary: false }),
  },
  msgpack: {
    transport: 'ws',
    encode: (message) => ({ frame: encodeMessage(message, 'msgpack'), binary: true }),
  },
};

import type { DeliveryMessage, ServerMessage } from '@fleetwire/protocol';

import type { Session } from './session.js';

/**
 * One client connection as the session core sees it: a transport (WebSocket frames today,
 * MQTT next) implements it. The core never learns how messages are encoded or written.
 */
export interface Connection {
  readonly session: Session;
  /**
   * The fan-out lane of this connection: connections in one lane receive the same encoded
   * bytes, so a delivery is encoded once per lane (WebSocket: `json` or `msgpack`).
   */
  readonly lane: string;
  /** Which transport carries it (`ws`, `mqtt`): the `transport` label of the edge's metrics. */
  readonly transport: string;
  /** Writes one message; false when it was dropped (the reader is over its backpressure limit). */
  write(message: ServerMessage): boolean;
  /**
   * Writes one binary stream relay frame as it is, unless the reader is behind by more than the
   * stream budget: false when dropped. Absent on transports that do not carry streams (MQTT).
   */
  writeStream?(frame: Uint8Array): boolean;
  /** Bytes written and not yet taken by the socket (its backpressure). */
  bufferedBytes(): number;
  /** Closes with a code and reason; nothing happens if it is closed already. */
  end(code: number, reason: string): void;
  /** Starts / stops receiving deliveries published to a lane topic (see LocalDelivery). */
  join(topic: string): void;
  leave(topic: string): void;
}

/**
 * Delivery to this node's connections, provided by the transport: every connection that joined
 * one of `topics` in `lane` gets `message` (once per topic joined), encoded once for the lane.
 * The transport may write within the current event-loop tick rather than at once, in order, and
 * counts the deliveries and bytes it writes. Returns how many connections the message goes to.
 */
export interface LocalDelivery {
  deliver(lane: string, topics: readonly string[], message: DeliveryMessage): number;
  /** Every lane a connection may be in. */
  readonly lanes: readonly string[];
}

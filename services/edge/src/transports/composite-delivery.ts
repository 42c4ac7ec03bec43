import type { DeliveryMessage } from '@fleetwire/protocol';

import type { LocalDelivery } from '../core/connection.js';

/**
 * Several transports' LocalDeliveries as one: each lane belongs to exactly one transport, and a
 * delivery for a lane goes straight to it. The fan-out still encodes once per lane and each
 * transport keeps its own native path (uWS publish for WebSocket and MQTT alike).
 */
export class CompositeDelivery implements LocalDelivery {
  readonly lanes: readonly string[];
  private readonly byLane = new Map<string, LocalDelivery>();

  constructor(parts: readonly LocalDelivery[]) {
    for (const part of parts) {
      for (const lane of part.lanes) {
        if (this.byLane.has(lane)) throw new Error(`fan-out lane ${lane} is claimed twice`);
        this.byLane.set(lane, part);
      }
    }
    this.lanes = [...this.byLane.keys()];
  }

  transportOf(lane: string): string {
    return this.byLane.get(lane)?.transportOf(lane) ?? 'unknown';
  }

  deliver(lane: string, topics: readonly string[], message: DeliveryMessage): number {
    const part = this.byLane.get(lane);
    if (!part) throw new Error(`no fan-out lane ${lane}`);
    return part.deliver(lane, topics, message);
  }
}

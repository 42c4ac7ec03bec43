import type { DevicePresence } from './api.js';

/** A presence event's data (`devices/<id>/presence`). */
export interface PresenceEvent {
  online: boolean;
  /** Online: the node that holds the device; offline: the node that held it (older edges: none). */
  node?: string;
  gateway?: string;
}

/**
 * The device after a presence event, or undefined when the event is older than what is known.
 * Each edge node publishes a device's events in order, but two nodes' events can cross: a
 * device that moves from node A to node B can have A's `offline` arrive after B's `online`. An
 * offline naming another node than the one the device is online at is that older one.
 */
export function afterPresenceEvent(
  known: DevicePresence | undefined,
  deviceId: string,
  event: PresenceEvent,
  ts: number,
): DevicePresence | undefined {
  if (
    !event.online &&
    event.node !== undefined &&
    known?.online === true &&
    known.node !== undefined &&
    known.node !== event.node
  ) {
    return undefined;
  }
  const { node: _node, connectedAt: _connectedAt, ...rest } = known ?? { deviceId, online: false };
  return {
    ...rest,
    online: event.online,
    ...(event.online && event.node ? { node: event.node } : {}),
    ...(event.online ? { connectedAt: ts } : {}),
    lastSeen: ts,
  };
}

import type { DevicePresence } from './api.js';

/** A presence event's data (`devices/<id>/presence`). */
export interface PresenceEvent {
  online: boolean;
  /** Online: the node that holds the device; offline: the node that held it (older edges: none). */
  node?: string;
  /** The gateway the device is reached through; none for a device connected by itself. */
  gateway?: string;
}

/**
 * What a presence event makes of the device: the device after it, or `check` when the event
 * cannot be taken as it is. Each edge node publishes a device's events in order, but two nodes'
 * events can cross: a device that moves from node A to node B can have A's `offline` arrive after
 * B's `online`, and one that moves from A to B and back can have A's second `online` arrive
 * before B's. An event (offline or online) naming another node than the one the device is known
 * online at is either such an older event or news that what is known is itself out of date (a
 * missed event, a list page read before a move): only the device's presence record can tell, so
 * read it.
 */
export function afterPresenceEvent(
  known: DevicePresence | undefined,
  deviceId: string,
  event: PresenceEvent,
  ts: number,
): DevicePresence | 'check' {
  if (
    event.node !== undefined &&
    known?.online === true &&
    known.node !== undefined &&
    known.node !== event.node
  ) {
    return 'check';
  }
  // As the store keeps it: a connect names its gateway or none (connected by itself); a leave
  // keeps the last one (a reaper's event may not know it).
  const gateway = event.online ? event.gateway : (event.gateway ?? known?.gateway);
  return {
    deviceId: known?.deviceId ?? deviceId,
    online: event.online,
    ...(event.online && event.node ? { node: event.node, connectedAt: ts } : {}),
    lastSeen: ts,
    ...(gateway === undefined ? {} : { gateway }),
  };
}

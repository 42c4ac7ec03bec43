import { describe, expect, it } from 'vitest';

import { afterPresenceEvent } from './presence-events.js';

describe('afterPresenceEvent', () => {
  const onB = { deviceId: 'car-1', online: true, node: 'edge-b', connectedAt: 20, lastSeen: 20 };

  it('asks for the record on an offline from another node than the one the device is online at', () => {
    expect(afterPresenceEvent(onB, 'car-1', { online: false, node: 'edge-a' }, 21)).toBe('check');
  });

  it('takes an offline from the node that holds it, and one that names no node (older edges)', () => {
    const left = { deviceId: 'car-1', online: false, lastSeen: 30 };
    expect(afterPresenceEvent(onB, 'car-1', { online: false, node: 'edge-b' }, 30)).toEqual(left);
    expect(afterPresenceEvent(onB, 'car-1', { online: false }, 30)).toEqual(left);
    // A sub-device keeps its gateway when it leaves, even if the event does not say it.
    const sub = { ...onB, gateway: 'gw' };
    expect(afterPresenceEvent(sub, 'car-1', { online: false, node: 'edge-b' }, 30)).toEqual({
      ...left,
      gateway: 'gw',
    });
  });

  it('asks for the record on an online from another node than the one the device is online at', () => {
    // Moved A → B → A: B's online may come after A's second one, or A's before B's.
    expect(afterPresenceEvent(onB, 'car-1', { online: true, node: 'edge-a' }, 22)).toBe('check');
  });

  it('takes an online of a device offline or unknown, from its own node (a reconnect) or naming none', () => {
    expect(afterPresenceEvent(onB, 'car-1', { online: true, node: 'edge-b' }, 23)).toEqual({
      ...onB,
      connectedAt: 23,
      lastSeen: 23,
    });
    expect(afterPresenceEvent(onB, 'car-1', { online: true }, 24)).toEqual({
      deviceId: 'car-1',
      online: true,
      lastSeen: 24,
    });
  });

  it('the gateway is the one an online names (none: connected by itself)', () => {
    const viaGateway = { deviceId: 's-1', online: false, lastSeen: 5, gateway: 'gw' };
    expect(afterPresenceEvent(viaGateway, 's-1', { online: true, node: 'edge-a' }, 40)).toEqual({
      deviceId: 's-1',
      online: true,
      node: 'edge-a',
      connectedAt: 40,
      lastSeen: 40,
    });
    expect(
      afterPresenceEvent(undefined, 'new', { online: true, node: 'edge-a', gateway: 'gw' }, 41),
    ).toEqual({
      deviceId: 'new',
      online: true,
      node: 'edge-a',
      connectedAt: 41,
      lastSeen: 41,
      gateway: 'gw',
    });
  });
});

import { describe, expect, it } from 'vitest';

import { afterPresenceEvent } from './presence-events.js';

describe('afterPresenceEvent', () => {
  const onB = { deviceId: 'car-1', online: true, node: 'edge-b', connectedAt: 20, lastSeen: 20 };

  it("ignores an offline from another node than the one the device is online at (a move's older event)", () => {
    expect(afterPresenceEvent(onB, 'car-1', { online: false, node: 'edge-a' }, 21)).toBeUndefined();
  });

  it('takes an offline from the node that holds it, and one that names no node (older edges)', () => {
    const left = { deviceId: 'car-1', online: false, lastSeen: 30 };
    expect(afterPresenceEvent(onB, 'car-1', { online: false, node: 'edge-b' }, 30)).toEqual(left);
    expect(afterPresenceEvent(onB, 'car-1', { online: false }, 30)).toEqual(left);
  });

  it('takes every online, and keeps what the list said of the device (its gateway)', () => {
    const offline = { deviceId: 's-1', online: false, lastSeen: 5, gateway: 'gw' };
    expect(afterPresenceEvent(offline, 's-1', { online: true, node: 'edge-a' }, 40)).toEqual({
      deviceId: 's-1',
      online: true,
      node: 'edge-a',
      connectedAt: 40,
      lastSeen: 40,
      gateway: 'gw',
    });
    expect(
      afterPresenceEvent(undefined, 'new', { online: true, node: 'edge-a' }, 41),
    ).toMatchObject({ deviceId: 'new', online: true, node: 'edge-a' });
  });
});

import { describe, expect, it } from 'vitest';

import { FleetwireClaims, canPublishAs, canSpeakFor, identityFromClaims } from './identity.js';
import { idGlobMatches } from './subdevices.js';

const gatewayClaims = {
  sub: 'gw-1',
  role: 'gateway',
  tenant: 'acme',
  subdevices: { ids: ['lamp-1', 'lock-2'], pattern: 'flat12-*' },
} as const;

describe('id patterns', () => {
  it.each([
    ['flat12-*', 'flat12-lamp', true],
    ['flat12-*', 'flat12-', true],
    ['flat12-*', 'flat13-lamp', false],
    ['*-temp', 'room-1-temp', true],
    ['*-temp', 'room-1-temp2', false],
    ['a*b*c', 'aXXbYYc', true],
    ['a*b*c', 'aXXbYY', false],
    ['exact', 'exact', true],
    ['exact', 'exactly', false],
    ['*', 'anything', true],
  ])('%s against %s → %s', (pattern, id, matches) => {
    expect(idGlobMatches(pattern, id)).toBe(matches);
  });

  it('stays fast on the worst case a token may carry (128-char patterns of stars)', () => {
    const pattern = '*a'.repeat(64);
    const id = 'a'.repeat(127) + 'b';
    // Quadratic at most: a catastrophic backtracker would not finish this in the test's lifetime.
    expect(idGlobMatches(pattern, id)).toBe(false);
  });
});

describe('gateway claims', () => {
  it('a gateway speaks for the ids and the pattern of its token, nothing else', () => {
    const gateway = identityFromClaims(FleetwireClaims.parse(gatewayClaims));
    expect(gateway.role).toBe('gateway');
    for (const id of ['lamp-1', 'lock-2', 'flat12-oven'])
      expect(canSpeakFor(gateway, id)).toBe(true);
    for (const id of ['lamp-2', 'flat13-oven', 'gw-2'])
      expect(canSpeakFor(gateway, id)).toBe(false);
  });

  it('publishing as a sub-device stays inside that sub-device’s subtree', () => {
    const gateway = identityFromClaims(FleetwireClaims.parse(gatewayClaims));
    expect(canPublishAs(gateway, 'lamp-1', 'devices/lamp-1/telemetry')).toBe(true);
    expect(canPublishAs(gateway, 'gw-1', 'devices/gw-1/status')).toBe(true);
    expect(canPublishAs(gateway, 'lamp-1', 'devices/lock-2/telemetry')).toBe(false);
    expect(canPublishAs(gateway, 'lamp-9', 'devices/lamp-9/telemetry')).toBe(false);
    expect(canPublishAs(gateway, 'gw-1', 'rooms/1')).toBe(false);
  });

  it('the ACL claim narrows what every sub-device may publish', () => {
    const gateway = identityFromClaims(
      FleetwireClaims.parse({ ...gatewayClaims, acl: { pub: ['devices/+/telemetry/#'] } }),
    );
    expect(canPublishAs(gateway, 'lamp-1', 'devices/lamp-1/telemetry')).toBe(true);
    expect(canPublishAs(gateway, 'lamp-1', 'devices/lamp-1/status')).toBe(false);
  });

  it.each([
    ['a gateway without subdevices', { sub: 'gw', role: 'gateway', tenant: 'acme' }],
    ['a device with subdevices', { ...gatewayClaims, role: 'device' }],
    ['empty subdevices', { ...gatewayClaims, subdevices: {} }],
    ['a pattern with other characters', { ...gatewayClaims, subdevices: { pattern: 'a/b' } }],
    ['an id that is no device id', { ...gatewayClaims, subdevices: { ids: ['a b'] } }],
  ])('refuses %s', (_what, claims) => {
    expect(FleetwireClaims.safeParse(claims).success).toBe(false);
  });
});

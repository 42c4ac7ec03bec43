import { describe, expect, it } from 'vitest';

import { canPublish, canSubscribe, identityFromClaims } from './identity.js';
import { extractToken } from './token.js';

describe('ACL', () => {
  it('a device publishes only under its own subtree, even if its claims say more', () => {
    const device = identityFromClaims({
      sub: 'd1',
      role: 'device',
      tenant: 'acme',
      acl: { pub: ['#'] },
    });
    expect(canPublish(device, 'devices/d1/telemetry')).toBe(true);
    expect(canPublish(device, 'devices/d2/telemetry')).toBe(false);
    expect(canPublish(device, 'rooms/1')).toBe(false);
  });

  it('a dashboard subscribes within its claims ({sub} expanded) and publishes nothing by default', () => {
    const dashboard = identityFromClaims({
      sub: 'ops',
      role: 'dashboard',
      tenant: 'acme',
      acl: { sub: ['devices/+/telemetry', 'users/{sub}/#'] },
    });
    expect(canSubscribe(dashboard, 'devices/+/telemetry')).toBe(true);
    expect(canSubscribe(dashboard, 'devices/d1/telemetry')).toBe(true);
    expect(canSubscribe(dashboard, 'users/ops/alerts')).toBe(true);
    expect(canSubscribe(dashboard, 'devices/#')).toBe(false);
    expect(canSubscribe(dashboard, 'users/other/#')).toBe(false);
    expect(canPublish(dashboard, 'devices/d1/telemetry')).toBe(false);
    expect(dashboard.command).toBe(true);
  });
});

describe('extractToken', () => {
  it('prefers the Authorization header, then Sec-WebSocket-Protocol, then ?token=', () => {
    expect(
      extractToken({ authorization: 'Bearer a.b.c', protocols: 'bearer.x', query: 'token=y' }),
    ).toBe('a.b.c');
    expect(
      extractToken({
        authorization: '',
        protocols: 'fleetwire.v1, bearer.x.y.z',
        query: 'token=y',
      }),
    ).toBe('x.y.z');
    expect(
      extractToken({ authorization: '', protocols: 'fleetwire.v1', query: 'format=json&token=y' }),
    ).toBe('y');
    expect(extractToken({ authorization: 'Basic abc', protocols: '', query: '' })).toBeUndefined();
  });
});

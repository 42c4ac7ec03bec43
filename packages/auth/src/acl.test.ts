import { describe, expect, it } from 'vitest';

import { MAX_SHARED_ACLS } from './acl.js';
import { aclOf, canPublish, canSubscribe, identityFromClaims } from './identity.js';

const device = (sub: string, acl?: { pub?: string[]; sub?: string[] }) =>
  identityFromClaims({ sub, role: 'device', tenant: 'acme', ...(acl ? { acl } : {}) });

describe('shared ACLs', () => {
  it('identities of one role and acl claim share one ACL; {sub} is expanded per subject', () => {
    const [a, b] = [device('d1'), device('d2')];
    expect(aclOf(a)).toBeDefined();
    expect(aclOf(a)).toBe(aclOf(b));
    expect(a.publish).toEqual(['devices/d1/#']);
    expect(b.subscribe).toEqual(['devices/d2/#']);
    expect(canPublish(b, 'devices/d2/telemetry')).toBe(true);
    expect(canPublish(b, 'devices/d1/telemetry')).toBe(false);
    expect(canSubscribe(a, 'devices/d1/commands')).toBe(true);
    expect(canSubscribe(a, 'devices/d2/commands')).toBe(false);

    const narrowed = { pub: ['devices/{sub}/telemetry'] };
    const [c, d] = [device('d3', narrowed), device('d4', { pub: ['devices/{sub}/telemetry'] })];
    expect(aclOf(c)).toBe(aclOf(d));
    expect(aclOf(c)).not.toBe(aclOf(a));
    // A claim naming only `pub` keeps the role's `sub` defaults.
    expect(c.subscribe).toEqual(['devices/d3/#']);
    expect(canPublish(d, 'devices/d4/telemetry')).toBe(true);
    expect(canPublish(d, 'devices/d4/events')).toBe(false);
  });

  it('role and tenant names are kept once, not a copy per token', () => {
    const claims = JSON.parse('{"sub":"d9","role":"device","tenant":"acme"}') as {
      sub: string;
      role: 'device';
      tenant: string;
    };
    const [one, two] = [identityFromClaims(claims), identityFromClaims({ ...claims, sub: 'd8' })];
    expect(one.role).toBe('device');
    expect(one.tenant).toBe(two.tenant);
  });

  it('the cache is bounded: past MAX_SHARED_ACLS distinct claims the oldest is made anew', () => {
    const first = device('x', { pub: ['devices/{sub}/first'] });
    for (let i = 0; i < MAX_SHARED_ACLS; i++) device('x', { pub: [`devices/{sub}/n${i}`] });
    const again = device('x', { pub: ['devices/{sub}/first'] });
    expect(aclOf(again)).not.toBe(aclOf(first));
    expect(aclOf(again)).toEqual(aclOf(first));
  });
});

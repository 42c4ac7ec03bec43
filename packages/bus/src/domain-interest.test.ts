import { describe, expect, it } from 'vitest';

import { DomainInterest, decodePatterns, encodePatterns } from './domain-interest.js';

describe('DomainInterest: what a publisher knows of who listens in a domain', () => {
  it('wants everything until the table is read, then only what other nodes hold', () => {
    const interest = new DomainInterest('me');
    expect(interest.fresh).toBe(false);
    expect(interest.wanted('acme/anything')).toBe(true);
    interest.load(
      3,
      new Map([
        ['b', ['acme/devices/+/telemetry']],
        ['me', ['acme/#']],
      ]),
    );
    expect(interest.fresh).toBe(true);
    expect(interest.wanted('acme/devices/d1/telemetry')).toBe(true);
    // This node's own patterns never count: a publish never comes back to its node.
    expect(interest.wanted('acme/rooms/r1')).toBe(false);
    expect(interest.remotePatterns).toBe(1);
  });

  it('keeps notices that come before the read and applies those newer than it', () => {
    const interest = new DomainInterest('me');
    interest.apply(5, 'c', ['acme/rooms/#']);
    interest.apply(2, 'b', []);
    expect(interest.wanted('acme/rooms/r1')).toBe(true);
    interest.load(4, new Map([['b', ['acme/x']]]));
    // c's change (5) is newer than the read (4); b's (2) is older and ignored.
    expect(interest.wanted('acme/rooms/r1')).toBe(true);
    expect(interest.wanted('acme/x')).toBe(true);
    expect(interest.wanted('acme/y')).toBe(false);
  });

  it('applies a node’s newest set only, removes a node that left, and forgets everything when stale', () => {
    const interest = new DomainInterest('me');
    interest.load(1, new Map());
    interest.apply(3, 'b', ['acme/a']);
    interest.apply(2, 'b', ['acme/old']);
    expect(interest.wanted('acme/a')).toBe(true);
    expect(interest.wanted('acme/old')).toBe(false);
    interest.apply(4, 'b', []);
    expect(interest.wanted('acme/a')).toBe(false);
    expect(interest.remotePatterns).toBe(0);
    interest.stale();
    expect(interest.wanted('acme/a')).toBe(true);
    // A read after the loss replaces what was known: b is back, c is not in the table.
    interest.apply(6, 'c', ['acme/c']);
    interest.load(7, new Map([['b', ['acme/b']]]));
    expect([interest.wanted('acme/b'), interest.wanted('acme/c')]).toEqual([true, false]);
  });

  it('takes a read after a table loss as the whole truth: older versions of a node do not hide its newer sets', () => {
    const interest = new DomainInterest('me');
    interest.load(90, new Map([['x', ['acme/a']]]));
    // The master restarted without persistence: the version counter is back at 0.
    interest.stale();
    interest.load(0, new Map());
    expect(interest.wanted('acme/a')).toBe(false);
    interest.apply(1, 'x', ['acme/a']);
    interest.apply(2, 'x', ['acme/a', 'acme/b']);
    expect([interest.wanted('acme/a'), interest.wanted('acme/b')]).toEqual([true, true]);
  });

  it('knows the newest table version (its own changes included) and which other nodes hold patterns, while fresh', () => {
    const interest = new DomainInterest('me');
    interest.apply(6, 'c', ['acme/c']);
    expect(interest.version).toBeUndefined();
    interest.load(4, new Map([['b', ['acme/b']]]));
    expect(interest.version).toBe(6);
    interest.apply(8, 'me', ['acme/mine']);
    interest.apply(7, 'b', []);
    expect(interest.version).toBe(8);
    expect([...interest.nodes()]).toEqual(['c']);
    interest.stale();
    expect(interest.version).toBeUndefined();
  });

  it('stores patterns one per line, sorted', () => {
    expect(encodePatterns(new Set(['b/+', 'a/#']))).toBe('a/#\nb/+');
    expect(decodePatterns('a/#\nb/+')).toEqual(['a/#', 'b/+']);
    expect(decodePatterns('')).toEqual([]);
  });
});

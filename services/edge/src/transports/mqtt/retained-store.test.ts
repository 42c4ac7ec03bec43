import { describe, expect, it } from 'vitest';

import { RetainedStore } from './retained-store.js';

const text = (s: string): Buffer => Buffer.from(s);
const topicsOf = (store: RetainedStore, tenant: string): string[] =>
  [...store.of(tenant)].map((m) => m.topic);

describe('RetainedStore', () => {
  it('keeps at most `max` in all; a tenant filling it pushes out its own oldest, never another tenant’s share', () => {
    const store = new RetainedStore(4);
    store.set('globex', 'devices/lamp/status', text('on'));
    for (let i = 0; i < 10; i++) store.set('acme', `devices/d${i}/status`, text(String(i)));
    expect(topicsOf(store, 'globex')).toEqual(['devices/lamp/status']);
    expect(topicsOf(store, 'acme')).toEqual([
      'devices/d7/status',
      'devices/d8/status',
      'devices/d9/status',
    ]);
    expect(store.size).toBe(4);
    // A tenant under an even share (2 of 4) takes its place from the fullest one.
    store.set('globex', 'devices/fan/status', text('off'));
    expect(topicsOf(store, 'globex')).toEqual(['devices/lamp/status', 'devices/fan/status']);
    expect(topicsOf(store, 'acme')).toEqual(['devices/d8/status', 'devices/d9/status']);
    // At its share, a tenant's next one pushes out its own oldest.
    store.set('globex', 'devices/tv/status', text('on'));
    expect(topicsOf(store, 'globex')).toEqual(['devices/fan/status', 'devices/tv/status']);
    expect(topicsOf(store, 'acme')).toHaveLength(2);
    expect(store.size).toBe(4);
  });

  it('a topic set again is the newest; an empty payload removes it', () => {
    const store = new RetainedStore(2);
    store.set('acme', 'a', text('1'));
    store.set('acme', 'b', text('2'));
    store.set('acme', 'a', text('3'));
    store.set('acme', 'c', text('4'));
    expect(topicsOf(store, 'acme')).toEqual(['a', 'c']);
    store.set('acme', 'a', Buffer.alloc(0));
    expect(topicsOf(store, 'acme')).toEqual(['c']);
    expect(store.size).toBe(1);
  });

  it('max 0 keeps nothing', () => {
    const store = new RetainedStore(0);
    store.set('acme', 'a', text('1'));
    expect(store.enabled).toBe(false);
    expect(store.size).toBe(0);
  });
});

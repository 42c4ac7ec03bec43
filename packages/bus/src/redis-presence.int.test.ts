import { LocalRedis, testRedis, type TestRedis } from '@fleetwire/testkit';
import { Redis } from 'ioredis';
import { expect, it } from 'vitest';

import { listAll, presenceContract } from './presence-contract.js';
import type { PresenceLimits } from './presence.js';
import { RedisPresence } from './redis-presence.js';

presenceContract('redis', async () => {
  const redis = await testRedis();
  const open = (limits: PresenceLimits = {}) =>
    RedisPresence.connect({ url: redis.url, prefix: redis.keyPrefix, ttlMs: 30_000, ...limits });
  const store = await open();
  return {
    store,
    ttlMs: 30_000,
    reopen: open,
    flush: () => deleteKeys(redis.url, redis.keyPrefix),
    close: async () => {
      await store.close();
      await redis.close();
    },
  };
});

/** Deletes every key under the prefix: what a Redis restart without persistence leaves. */
async function deleteKeys(url: string, prefix: string): Promise<void> {
  const client = new Redis(url);
  try {
    let cursor = '0';
    do {
      const [next, keys] = await client.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500);
      if (keys.length > 0) await client.del(...keys);
      cursor = next;
    } while (cursor !== '0');
  } finally {
    client.disconnect();
  }
}

/**
 * A store on a fresh test Redis, with a plain client on the same server for what a test writes
 * or reads around the store.
 */
async function withStore(
  run: (ctx: { store: RedisPresence; redis: TestRedis; client: Redis }) => Promise<void>,
): Promise<void> {
  const redis = await testRedis();
  const store = await RedisPresence.connect({
    url: redis.url,
    prefix: redis.keyPrefix,
    ttlMs: 30_000,
  });
  const client = new Redis(redis.url);
  try {
    await run({ store, redis, client });
  } finally {
    client.disconnect();
    await store.close();
    await redis.close();
  }
}

it('node loads another Redis user wrote as garbage are left out, never passed on', async () => {
  await withStore(async ({ store, redis, client: rogue }) => {
    const now = Date.now();
    await store.renew([], 'honest', now, 12);
    const garbage = ['abc', '-5', '1e9', '12.5', ' 7', '0x10', '9999999999', 'x'.repeat(100_000)];
    for (const [i, value] of garbage.entries()) {
      await rogue.zadd(`${redis.keyPrefix}{nodes}:beat`, now, `rogue-${i}`);
      await rogue.hset(`${redis.keyPrefix}{nodes}:load`, `rogue-${i}`, value);
    }
    expect(await store.nodeLoads(now + 1)).toEqual([{ node: 'honest', connections: 12, at: now }]);
  });
});

it('device records another Redis user wrote as garbage read as unknown, and no script trips on them', async () => {
  await withStore(async ({ store, redis, client: rogue }) => {
    const now = Date.now();
    const hash = `${redis.keyPrefix}{t:acme}:d`;
    const garbage = ['', 'x', '12|', '12|99|short', '|3|abc', '1|2|', 'y'.repeat(5_000), '1|0|'];
    for (const [i, value] of garbage.entries()) await rogue.hset(hash, `g${i}`, value);
    for (const [i] of garbage.entries()) {
      const device = { tenant: 'acme', deviceId: `g${i}` };
      expect(await store.owner(device)).toBeUndefined();
      expect(await store.get(device, now)).toMatchObject({ online: false });
      await store.markOffline(device, 'node-a', now);
      expect(await store.markOnline(device, 'node-a', now)).toEqual({});
      expect(await store.get(device, now)).toMatchObject({ online: true, node: 'node-a' });
    }
  });
});

it('a rewrite that failed half-way is done again at the next renewal, not forgotten', async () => {
  await withStore(async ({ store, redis, client: rogue }) => {
    const now = Date.now();
    const d1 = { tenant: 'acme', deviceId: 'd1' };
    const d2 = { tenant: 'blocked', deviceId: 'd2' };
    await store.markOnline(d1, 'node-a', now);
    await store.markOnline(d2, 'node-a', now);
    await store.renew([d1, d2], 'node-a', now);
    // The lease and the records are lost; then another Redis user's string stands where a
    // tenant's hash goes, so the rewrite fails on that tenant's record.
    await rogue.del(`${redis.keyPrefix}{nodes}:epoch`, `${redis.keyPrefix}{t:blocked}:d`);
    await rogue.set(`${redis.keyPrefix}{t:blocked}:d`, 'not a hash');
    await expect(store.renew([d1, d2], 'node-a', now + 1)).rejects.toThrow(/WRONGTYPE/);
    await rogue.del(`${redis.keyPrefix}{t:blocked}:d`);
    // The lease is this instance's again, yet the records are still owed.
    expect(await store.renew([d1, d2], 'node-a', now + 2)).toEqual({
      moved: [],
      restored: [d2],
      released: [],
    });
    expect(await store.get(d2, now + 2)).toMatchObject({ online: true, node: 'node-a' });
  });
});

it('keys are hash-tagged for a cluster: a tenant’s records, a node’s devices, and the leases each in one slot', async () => {
  await withStore(async ({ store, redis, client }) => {
    const now = Date.now();
    const device = { tenant: 'acme', deviceId: 'd1', gateway: 'gw' };
    await store.markOnline(device, 'node-a', now);
    await store.renew([device], 'node-a', now, 1);
    const keys = (await client.keys(`${redis.keyPrefix}*`)).map((k) =>
      k.slice(redis.keyPrefix.length),
    );
    expect(keys.sort()).toEqual([
      '{n:node-a}:d',
      '{nodes}:beat',
      '{nodes}:epoch',
      '{nodes}:load',
      '{t:acme}:d',
    ]);
  });
});

/**
 * Memory and writes at rest on a Redis of its own (a shared one's counters move with other
 * suites): at most 200 bytes per device, node membership included, and the same writes per
 * renewal with 0 or 2,000 devices.
 */
it('≤ 200 B per device in Redis; a renewal writes the same with 0 or 2,000 devices', async () => {
  const redis = await LocalRedis.launch();
  const store = await RedisPresence.connect({ url: redis.url, ttlMs: 30_000 });
  const client = new Redis(redis.url);
  const dirty = async () =>
    Number((await client.info('persistence')).match(/^rdb_changes_since_last_save:(\d+)/m)?.[1]);
  const used = async () => Number((await client.info('memory')).match(/^used_memory:(\d+)/m)?.[1]);
  try {
    const now = Date.now();
    await store.renew([], 'peers-1', now, 0);
    const writesPerRenewal = async (at: number) => {
      const before = await dirty();
      for (let i = 1; i <= 10; i++) await store.renew([], 'peers-1', at + i, 0);
      return (await dirty()) - before;
    };
    const idleWrites = await writesPerRenewal(now);
    const devices = 2_000;
    const memoryBefore = await used();
    await Promise.all(
      Array.from({ length: devices }, (_, i) =>
        store.markOnline({ tenant: 'acme', deviceId: `device-${100_000 + i}` }, 'peers-1', now),
      ),
    );
    const perDevice = ((await used()) - memoryBefore) / devices;
    expect(perDevice).toBeLessThanOrEqual(200);
    expect(await writesPerRenewal(now + 100)).toBe(idleWrites);
  } finally {
    client.disconnect();
    await store.close();
    await redis.dispose();
  }
});

/**
 * Commands counted on a Redis of its own (a shared one's counters move with other suites): the
 * records of a turn's connects and disconnects are written per tenant and per node, not per
 * device, and each caller still gets its own device's answer.
 */
it('a turn’s connects and disconnects cost one record script run per tenant and one set write per node', async () => {
  const redis = await LocalRedis.launch();
  const store = await RedisPresence.connect({ url: redis.url, ttlMs: 30_000 });
  const client = new Redis(redis.url);
  const calls = async () => {
    const stats = await client.info('commandstats');
    const count = (command: string) =>
      Number(new RegExp(`^cmdstat_${command}:calls=(\\d+)`, 'm').exec(stats)?.[1] ?? 0);
    return { scripts: count('eval') + count('evalsha'), sadd: count('sadd'), srem: count('srem') };
  };
  try {
    const now = Date.now();
    const devices = Array.from({ length: 300 }, (_, i) => ({
      tenant: i % 2 === 0 ? 'globex' : 'acme',
      deviceId: `d-${i}`,
    }));
    await store.markOnline(devices[0]!, 'node-b', now);
    const before = await calls();
    const online = await Promise.all(devices.map((d) => store.markOnline(d, 'node-a', now + 1)));
    expect(online[0]).toEqual({ previous: 'node-b' });
    expect(online.slice(1).filter((result) => result.previous !== undefined)).toEqual([]);
    const connected = await calls();
    expect(connected.scripts - before.scripts).toBe(2);
    expect(connected.sadd - before.sadd).toBe(1);
    for (const tenant of ['acme', 'globex']) {
      const records = await listAll(store, tenant, now + 1);
      expect(records.filter((r) => r.online && r.node === 'node-a')).toHaveLength(150);
    }

    await Promise.all(devices.map((d) => store.markOffline(d, 'node-a', now + 2)));
    const disconnected = await calls();
    expect(disconnected.scripts - connected.scripts).toBe(2);
    expect(disconnected.srem - connected.srem).toBe(1);
    for (const tenant of ['acme', 'globex']) {
      expect((await listAll(store, tenant, now + 2)).filter((r) => r.online)).toEqual([]);
    }
  } finally {
    client.disconnect();
    await store.close();
    await redis.dispose();
  }
});

it('close() sends what the turn batched and waits for its answers before it quits', async () => {
  const redis = await testRedis();
  const store = await RedisPresence.connect({
    url: redis.url,
    prefix: redis.keyPrefix,
    ttlMs: 30_000,
  });
  const reader = await RedisPresence.connect({
    url: redis.url,
    prefix: redis.keyPrefix,
    ttlMs: 30_000,
  });
  try {
    const now = Date.now();
    const devices = ['d1', 'd2', 'd3'].map((deviceId) => ({ tenant: 'acme', deviceId }));
    const written = devices.map((d) => store.markOnline(d, 'node-a', now));
    await store.close();
    for (const result of written) await expect(result).resolves.toEqual({});
    for (const d of devices) expect(await reader.owner(d)).toBe('node-a');
  } finally {
    await reader.close();
    await redis.close();
  }
});

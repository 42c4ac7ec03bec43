import { testRedisCluster, waitFor, type TestRedisCluster } from '@fleetwire/testkit';
import { Cluster } from 'ioredis';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';

import { Inbox } from './bus-contract.js';
import { encodeAck, parseControlFrame } from './cluster-frames.js';
import { ClusterInterest } from './cluster-interest.js';
import { clusterNodes } from './cluster-nodes.js';
import type { Retention } from './history.js';
import { RedisClusterBus, type RedisClusterBusOptions } from './redis-cluster-bus.js';
import { settledSoon } from './promise-test-support.js';

const KEEP: Retention = { maxAgeMs: 60_000, maxCount: 100, horizonMs: 60_000 };
const text = (s: string): Uint8Array => Buffer.from(s);

let redis: TestRedisCluster;
let opened: { close(): Promise<void> | void }[] = [];
let domains = 0;
const domain = (): string => `i${process.pid}x${(domains += 1)}`;

beforeAll(async () => {
  redis = await testRedisCluster();
});
afterEach(async () => {
  await Promise.all(opened.map((o) => o.close()));
  opened = [];
});
afterAll(() => redis.close());

async function node(
  id: string,
  options: Partial<RedisClusterBusOptions> = {},
): Promise<RedisClusterBus> {
  const bus = await RedisClusterBus.connect({
    nodes: clusterNodes(redis.nodes),
    nodeId: `${redis.keyPrefix}${id}`,
    prefix: redis.keyPrefix,
    ...options,
  });
  opened.push(bus);
  return bus;
}

/** A plain sharded subscriber on a domain's channel: what actually crosses Redis. */
async function wiretap(d: string): Promise<string[]> {
  const tap = new Cluster(clusterNodes(redis.nodes), { shardedSubscribers: true });
  opened.push({ close: () => tap.disconnect() });
  const seen: string[] = [];
  tap.on('smessageBuffer', (_channel: Buffer, message: Buffer) => {
    const newline = message.indexOf(0x0a);
    const [, , topicBytes] = message.subarray(0, newline).toString().split(' ');
    if (topicBytes === '~') return;
    seen.push(message.subarray(newline + 1, newline + 1 + Number(topicBytes)).toString());
  });
  await tap.ssubscribe(`${redis.keyPrefix}t:{${d}}`);
  return seen;
}

it('a publish or append whose topic no node listens to does not cross Redis; the append is still stored', async () => {
  const d = domain();
  const [a, b] = [await node('a'), await node('b')];
  const inB = new Inbox(b);
  const tapped = await wiretap(d);
  await b.addPattern(`${d}/rooms/#`);
  // a's first publish into the domain goes out while a reads the domain's table.
  await a.publish(`${d}/rooms/first`, text('first'));
  await inB.until(() => inB.topics.length, 1);
  await waitFor('a to know the interest in its domain', () =>
    a.publish(`${d}/nobody/x`, text('probe')).then(() => a.stats().skipped > 0),
  );
  const before = a.stats();
  await a.publish(`${d}/devices/d1/telemetry`, text('unheard'));
  const [position] = await a.append([
    { topic: `${d}/devices/d1/telemetry`, payload: text('stored'), retention: KEEP },
  ]);
  await a.publish(`${d}/rooms/r1`, text('heard'));
  await inB.until(() => inB.topics.length, 2);
  expect(inB.topics.map((m) => m.text)).toEqual(['first', 'heard']);
  expect(a.stats()).toMatchObject({
    skipped: before.skipped + 2,
    fannedOut: before.fannedOut + 1,
  });
  // Nothing but what b listens to reached the channel after the table was known.
  await waitFor('the wiretap to see the heard message', () => tapped.includes(`${d}/rooms/r1`));
  expect(tapped.filter((t) => t.startsWith(`${d}/devices/`))).toEqual([]);
  const read = await b.readHistory({
    pattern: `${d}/devices/#`,
    after: { epoch: position!.epoch, offset: `${Number(position!.offset.split('-')[0]) - 1}-0` },
    maxAgeMs: 60_000,
    maxMessages: 10,
    maxBytes: 1_000_000,
    maxStreams: 10,
  });
  expect(read).toMatchObject({ ok: true, entries: [{ topic: `${d}/devices/d1/telemetry` }] });
});

it('a node that joins hears every publish made after addPattern resolved, though the publisher was skipping', async () => {
  const d = domain();
  const [a, b] = [await node('a'), await node('b')];
  const inB = new Inbox(b);
  await waitFor('a to know the (empty) interest in its domain', () =>
    a.publish(`${d}/x`, text('nobody')).then(() => a.stats().skipped > 0),
  );
  for (let round = 0; round < 20; round++) {
    const pattern = `${d}/r${round}/#`;
    await b.addPattern(pattern);
    // No wait: the publisher's table must already say b listens.
    await a.publish(`${d}/r${round}/m`, text(String(round)));
    await inB.until(() => inB.topics.length, round + 1);
    await b.removePattern(pattern);
  }
  expect(inB.topics.map((m) => m.text)).toEqual([...Array(20).keys()].map(String));
  expect(b.stats().ackTimeouts).toBe(0);
});

it('a node that leaves stops being published to, and close() takes its interest out', async () => {
  const d = domain();
  const [a, b] = [await node('a'), await node('b')];
  const inB = new Inbox(b);
  await b.addPattern(`${d}/#`);
  await a.publish(`${d}/t`, text('heard'));
  await inB.until(() => inB.topics.length, 1);
  expect(a.stats()).toMatchObject({ fannedOut: 1, skipped: 0 });
  await b.close();
  // close() removed b's entry from the table: a learns it from the notice, not from a timeout.
  const tapped = await wiretap(d);
  await waitFor('a to see b leave', () =>
    a.publish(`${d}/t`, text('after')).then(() => a.stats().skipped > 0),
  );
  const { fannedOut } = a.stats();
  await a.publish(`${d}/t`, text('unheard'));
  expect(a.stats().fannedOut).toBe(fannedOut);
  expect(tapped.filter((topic) => topic === `${d}/t`).length).toBeLessThanOrEqual(fannedOut - 1);
});

/** `client` with one method replaced by `wrap(the method)`, everything else as it is. */
function intercept<T extends object>(
  client: T,
  method: string,
  wrap: (original: (...args: unknown[]) => Promise<unknown>) => (...args: never[]) => unknown,
): T {
  return new Proxy(client, {
    get(target, key, receiver) {
      const value: unknown = Reflect.get(target, key, receiver);
      if (typeof value !== 'function') return value;
      const bound = (value as (...args: unknown[]) => Promise<unknown>).bind(target);
      return key === method ? wrap(bound) : bound;
    },
  });
}

/** A node's interest protocol whose next `refuse(n)` changes Redis refuses. */
function refusingInterest(me: string): {
  interest: ClusterInterest;
  pub: Cluster;
  sub: Cluster;
  refuse: (n: number) => void;
} {
  const pub = new Cluster(clusterNodes(redis.nodes));
  const sub = new Cluster(clusterNodes(redis.nodes), { shardedSubscribers: true });
  opened.push({ close: () => pub.disconnect() }, { close: () => sub.disconnect() });
  let refusals = 0;
  const refusing = intercept(pub, 'fleetwireSetInterest', (set) => (...args: never[]) => {
    if (refusals === 0) return set(...args);
    refusals -= 1;
    return Promise.reject(new Error('refused for the test'));
  });
  const interest = new ClusterInterest(refusing, sub, me, redis.keyPrefix, { ackTimeoutMs: 1_000 });
  return { interest, pub, sub, refuse: (n) => (refusals = n) };
}

it('a join waits for exactly the followers the SPUBLISH counted, whether its own control subscription was refused or is up', async () => {
  const d = domain();
  const me = `${redis.keyPrefix}joiner`;
  const control = `${redis.keyPrefix}x:{${d}}`;
  const pub = new Cluster(clusterNodes(redis.nodes));
  const sub = new Cluster(clusterNodes(redis.nodes), { shardedSubscribers: true });
  opened.push({ close: () => pub.disconnect() }, { close: () => sub.disconnect() });
  // The joiner's subscriber refuses the control channel's SSUBSCRIBE while `refusing`.
  let refusing = true;
  const refusable = intercept(
    sub,
    'ssubscribe',
    (ssubscribe) => (channel: string) =>
      refusing && channel === control
        ? Promise.reject(new Error('refused for the test'))
        : ssubscribe(channel),
  );
  const interest = new ClusterInterest(pub, refusable, me, redis.keyPrefix, {
    ackTimeoutMs: 1_000,
  });
  sub.on('smessageBuffer', (channel: Buffer, message: Buffer) => {
    if (channel.toString() === control) interest.onControlMessage(d, message);
  });
  // One other follower, which acknowledges only when the test says so.
  const follower = new Cluster(clusterNodes(redis.nodes), { shardedSubscribers: true });
  opened.push({ close: () => follower.disconnect() });
  const changes: number[] = [];
  follower.on('smessageBuffer', (_channel: Buffer, message: Buffer) => {
    const frame = parseControlFrame(message);
    if (frame?.kind === 'interest' && frame.node === me) changes.push(frame.version);
  });
  await follower.ssubscribe(control);
  const versionKey = `${redis.keyPrefix}n:{${d}}:v`;

  for (const [round, subscribed] of [
    [1, false],
    [2, true],
  ] as const) {
    refusing = !subscribed;
    const joined = interest.announce(d, () => [`${d}/r${round}/#`], true);
    await waitFor('the follower to hear the change', () => changes.length === round);
    // A command after the announcing script on the same master: its reply comes after the
    // script's, so a join that does not wait for the follower has resolved by now.
    await pub.get(versionKey);
    expect(await settledSoon(joined)).toBe(false);
    await follower.spublish(control, encodeAck('follower', changes[round - 1]!, me));
    await joined;
    // Refused: the follower was counted, but its acknowledgement cannot reach a joiner that does
    // not hear the channel, so the join ends at the timeout (never early). Subscribed: the
    // joiner was counted too, and its own change acknowledged it; nothing else was awaited.
    expect(interest.ackTimeouts).toBe(1);
  }
});

it('an announcement Redis refused is made again by the next holder of the pattern (settled), and acknowledged', async () => {
  const d = domain();
  const me = `${redis.keyPrefix}announcer`;
  const control = `${redis.keyPrefix}x:{${d}}`;
  const { interest, pub, sub, refuse } = refusingInterest(me);
  refuse(1);
  sub.on('smessageBuffer', (channel: Buffer, message: Buffer) => {
    if (channel.toString() === control) interest.onControlMessage(d, message);
  });
  await expect(interest.announce(d, () => [`${d}/a/#`], true)).rejects.toThrow('refused');
  await interest.settled(d);
  expect(await pub.hget(`${redis.keyPrefix}n:{${d}}`, me)).toBe(`${d}/a/#`);
  // Announced again, no longer refused: a later holder does not announce a third time.
  await interest.settled(d);
  expect(await pub.get(`${redis.keyPrefix}n:{${d}}:v`)).toBe('1');
  // Its one follower, itself, acknowledged it.
  expect(interest.ackTimeouts).toBe(0);
});

/** Beats fast enough for a test: a node silent for a second is taken for dead. */
const QUICK_REAP = { interestBeatMs: 100, interestReapAfterMs: 1_000 };

/** The interest keys of a domain, read and written with a plain client, and a reaper of its own. */
function interestTable(d: string) {
  const client = new Cluster(clusterNodes(redis.nodes));
  opened.push({ close: () => client.disconnect() });
  const table = `${redis.keyPrefix}n:{${d}}`;
  const version = `${redis.keyPrefix}n:{${d}}:v`;
  const beats = `${redis.keyPrefix}{nodes}:interest-beat`;
  const redisMs = async (): Promise<number> => {
    const [seconds, micros] = await client.time();
    return Number(seconds) * 1_000 + Math.floor(Number(micros) / 1_000);
  };
  return {
    client,
    table,
    version,
    /** A node's heartbeat, written as `agoMs` old (Redis time). */
    beatAgo: async (node: string, agoMs: number) =>
      void (await client.zadd(beats, (await redisMs()) - agoMs, node)),
    /** What a node killed with -9 leaves: its entry in the table (a change of the table). */
    plant: async (node: string, patterns: string) => {
      await client.hset(table, node, patterns);
      await client.incr(version);
    },
    /** A follower of the domain (its notices applied) once it has read the table. */
    reaper: async (options: { reapAfterMs?: number } = {}): Promise<ClusterInterest> => {
      const sub = new Cluster(clusterNodes(redis.nodes), { shardedSubscribers: true });
      opened.push({ close: () => sub.disconnect() });
      const reaper = new ClusterInterest(client, sub, `${redis.keyPrefix}reaper`, redis.keyPrefix, {
        ackTimeoutMs: 1_000,
        ...options,
      });
      sub.on('smessageBuffer', (_channel: Buffer, message: Buffer) =>
        reaper.onControlMessage(d, message),
      );
      reaper.wanted(d, `${d}/x`);
      await waitFor('the reaper to read the table', () => !reaper.wanted(d, `${d}/nobody`));
      return reaper;
    },
  };
}

it('a crashed node’s interest is taken out of the table once its heartbeat is old; a live node’s stays', async () => {
  const d = domain();
  const keys = interestTable(d);
  const ghost = `${redis.keyPrefix}ghost`;
  await keys.plant(ghost, `${d}/rooms/#`);
  await keys.beatAgo(ghost, 5_000);
  const [a, b] = [await node('a', QUICK_REAP), await node('b', QUICK_REAP)];
  const inB = new Inbox(b);
  await b.addPattern(`${d}/live/#`);
  // a follows the domain from its first publish into it, and reaps on its next heartbeat.
  await a.publish(`${d}/rooms/r1`, text('first'));
  await waitFor('a to reap the ghost', () => a.stats().reaped === 1);
  expect(await keys.client.hget(keys.table, ghost)).toBeNull();
  expect(await keys.client.hget(keys.table, b.nodeId)).toBe(`${d}/live/#`);
  // The removal was announced: a's own table no longer has anyone on rooms/…, b is still heard.
  await waitFor('a to skip the ghost’s topics', () =>
    a.publish(`${d}/rooms/r2`, text('unheard')).then(() => a.stats().skipped > 0),
  );
  await a.publish(`${d}/live/x`, text('heard'));
  await inB.until(() => inB.topics.length, 1);
  expect(inB.topics.map((m) => m.text)).toEqual(['heard']);
  // Only the ghost: b beat all along (a and b share this process, so a stall would stop a's
  // beats too, and a reaps only after a bound of its own beats).
  expect(a.stats().reaped).toBe(1);
  expect(b.stats()).toMatchObject({ reannounced: 0, beatFailures: 0 });
});

it('a reap is made at the version known before the beat: a node that announced itself since stays', async () => {
  const d = domain();
  const keys = interestTable(d);
  const b = await node('b', QUICK_REAP);
  await b.addPattern(`${d}/rooms/#`);
  const reaper = await keys.reaper();
  const before = new Map([[d, Number(await keys.client.get(keys.version))]]);
  // b announces itself again (as a node whose heartbeat lapsed does), and the reaper hears it.
  await b.addPattern(`${d}/halls/#`);
  await waitFor('the reaper to hear the change', () => !reaper.wanted(d, `${d}/nobody`));
  expect(await reaper.reap({ silent: [b.nodeId], versions: before })).toBe(0);
  expect(await keys.client.hget(keys.table, b.nodeId)).toBe(`${d}/halls/#\n${d}/rooms/#`);
});

it('a reaper whose own heartbeat lapsed names nobody silent until its beats went through for a whole bound', async () => {
  const d = domain();
  const keys = interestTable(d);
  const reaper = await keys.reaper({ reapAfterMs: 1_000 });
  const ghost = `${redis.keyPrefix}ghost`;
  await keys.beatAgo(ghost, 5_000);
  // Not at start either: its first beats name nobody, a bound of them later the ghost.
  expect(await reaper.beat()).toMatchObject({ lapsed: false, silent: [] });
  await waitFor('the ghost named silent, a bound later', async () =>
    (await reaper.beat()).silent.includes(ghost),
  );
  // The heartbeats' master was away (or this node stalled): every beat, its own too, is old.
  await keys.beatAgo(`${redis.keyPrefix}reaper`, 5_000);
  expect(await reaper.beat()).toMatchObject({ lapsed: true, silent: [] });
  await waitFor('the ghost named silent again, a bound later', async () =>
    (await reaper.beat()).silent.includes(ghost),
  );
});

it('a beat names the most recently silent nodes first, however many old ones are listed', async () => {
  const keys = interestTable(domain());
  const reaper = await keys.reaper({ reapAfterMs: 1_000 });
  // A day's crash loop: a thousand bus ids silent for an hour, then one silent for seconds.
  for (let i = 0; i < 1_000; i++) await keys.beatAgo(`${redis.keyPrefix}old${i}`, 3_600_000);
  const ghost = `${redis.keyPrefix}ghost-recent`;
  await keys.beatAgo(ghost, 5_000);
  await waitFor('the recent ghost named silent', async () =>
    (await reaper.beat()).silent.includes(ghost),
  );
});

it('a live node taken out of the table (reaped while it was silent) announces its interest again', async () => {
  const d = domain();
  const keys = interestTable(d);
  const [a, b] = [await node('a', QUICK_REAP), await node('b', QUICK_REAP)];
  const inB = new Inbox(b);
  await b.addPattern(`${d}/rooms/#`);
  // Another node's reap of b, made as a silent b's would be: b hears the removal notice.
  const reaper = await keys.reaper();
  const known = new Map([[d, Number(await keys.client.get(keys.version))]]);
  expect(await reaper.reap({ silent: [b.nodeId], versions: known })).toBe(1);
  await waitFor('b to announce itself again', () => b.stats().reannounced >= 1);
  await waitFor(
    'b back in the table',
    async () => (await keys.client.hget(keys.table, b.nodeId)) === `${d}/rooms/#`,
  );
  await waitFor('a to publish to b again', async () => {
    await a.publish(`${d}/rooms/r`, text('again'));
    return inB.topics.length > 0;
  });
});

it('a node whose own heartbeat lapsed announces its interest again (it may have been reaped unheard)', async () => {
  const d = domain();
  const keys = interestTable(d);
  const b = await node('b', QUICK_REAP);
  await b.addPattern(`${d}/rooms/#`);
  // Taken out while its removal notice went unheard, and silent for longer than the bound.
  await keys.client.hdel(keys.table, b.nodeId);
  await keys.beatAgo(b.nodeId, 5_000);
  await waitFor(
    'b back in the table',
    async () => (await keys.client.hget(keys.table, b.nodeId)) === `${d}/rooms/#`,
  );
  expect(b.stats().reannounced).toBeGreaterThanOrEqual(1);
});

it('refuses a reap bound shorter than three heartbeats', async () => {
  await expect(
    node('x', { interestBeatMs: 1_000, interestReapAfterMs: 2_000 }),
  ).rejects.toMatchObject({ code: 'BUS_INVALID_OPTIONS' });
});

it('restoring an entry that is still there keeps a refused change owed: the next holder announces it', async () => {
  const d = domain();
  const me = `${redis.keyPrefix}restorer`;
  const { interest, pub, refuse } = refusingInterest(me);
  const held = [`${d}/a/#`];
  await interest.announce(d, () => held, false);
  refuse(1);
  held.push(`${d}/b/#`);
  await expect(interest.announce(d, () => held, false)).rejects.toThrow('refused');
  // A notice said this node holds nothing (its own old change, heard late): its entry is there.
  expect(await interest.restore(d, () => held)).toBe(false);
  await interest.settled(d);
  expect(await pub.hget(`${redis.keyPrefix}n:{${d}}`, me)).toBe(`${d}/a/#\n${d}/b/#`);
});

/** Subscribers of a domain's change channel, over every master (each counts its own shard's). */
async function controlFollowers(d: string): Promise<number> {
  const client = new Cluster(clusterNodes(redis.nodes));
  opened.push({ close: () => client.disconnect() });
  await client.connect().catch(() => undefined);
  await waitFor('the cluster client', () => client.nodes('master').length === redis.nodes.length);
  const counts = await Promise.all(
    client
      .nodes('master')
      .map((master) =>
        master.call('PUBSUB', 'SHARDNUMSUB', `${redis.keyPrefix}x:{${d}}`),
      ) as Promise<[string, number]>[],
  );
  return counts.reduce((sum, [, n]) => sum + Number(n), 0);
}

const QUICK_UNFOLLOW = {
  interestBeatMs: 50,
  interestReapAfterMs: 1_000,
  interestFollowIdleMs: 2_000,
};

/** Publishes into the domain (each a use) until `node` skips a topic nobody wants: table read. */
async function untilSkipping(node: RedisClusterBus, d: string, also = async () => true) {
  await waitFor(`${node.nodeId} to know the interest in ${d}`, async () => {
    const before = node.stats().skipped;
    await node.publish(`${d}/nobody/x`, text('nobody'));
    return node.stats().skipped > before && (await also());
  });
}

it('a tenant a node stopped publishing into is let go after the idle bound; its next publish follows it again, reading the table anew', async () => {
  const d = domain();
  const a = await node('a', QUICK_UNFOLLOW);
  const b = await node('b');
  const inB = new Inbox(b);
  await b.addPattern(`${d}/rooms/#`);
  await a.publish(`${d}/rooms/1`, text('one'));
  await inB.until(() => inB.topics.length, 1);
  await untilSkipping(a, d, async () => (await controlFollowers(d)) === 2);

  await waitFor('a to let the idle tenant go', () => a.stats().followedDomains === 0);
  await waitFor('a off the change channel', async () => (await controlFollowers(d)) === 1);
  // A pattern a cannot hear of: the table a reads when it follows again must have it.
  await b.addPattern(`${d}/halls/#`);
  await a.publish(`${d}/halls/1`, text('two'));
  expect(a.stats().followedDomains).toBe(1);
  await untilSkipping(a, d);
  await a.publish(`${d}/halls/2`, text('three'));
  await inB.until(() => inB.topics.length, 3);
  expect(inB.topics.map((m) => m.text)).toEqual(['one', 'two', 'three']);
});

it('a tenant a node listens in stays followed however long it publishes nothing there', async () => {
  const [held, visited] = [domain(), domain()];
  const b = await node('b', QUICK_UNFOLLOW);
  await b.addPattern(`${held}/rooms/#`);
  await b.publish(`${visited}/x`, text('once'));
  expect(b.stats().followedDomains).toBe(2);
  // The visited tenant goes after the idle bound: by then the held one was as idle.
  await waitFor('b to let the visited tenant go', () => b.stats().followedDomains === 1);
  expect(await controlFollowers(held)).toBe(1);
  await waitFor('b off the visited tenant', async () => (await controlFollowers(visited)) === 0);
  const a = await node('a');
  const inB = new Inbox(b);
  await waitFor('a publish into the held tenant to reach b', async () => {
    await a.publish(`${held}/rooms/r`, text('heard'));
    return inB.topics.length > 0;
  });
});

it('refuses a follow idle bound shorter than a heartbeat, and bounds that are not numbers', async () => {
  await expect(
    node('x', { interestBeatMs: 1_000, interestReapAfterMs: 3_000, interestFollowIdleMs: 500 }),
  ).rejects.toMatchObject({ code: 'BUS_INVALID_OPTIONS' });
  for (const bound of ['interestFollowIdleMs', 'interestReapAfterMs'] as const) {
    await expect(node('x', { [bound]: Number.NaN })).rejects.toMatchObject({
      code: 'BUS_INVALID_OPTIONS',
    });
  }
});

it('a tenant stays followed while a change of this node is under way there, however idle', async () => {
  const d = domain();
  const me = `${redis.keyPrefix}leaver`;
  const pub = new Cluster(clusterNodes(redis.nodes));
  const sub = new Cluster(clusterNodes(redis.nodes), { shardedSubscribers: true });
  opened.push({ close: () => pub.disconnect() }, { close: () => sub.disconnect() });
  let release = (): void => undefined;
  let holding: Promise<void> | undefined;
  const holdable = intercept(pub, 'fleetwireSetInterest', (set) => (...args: never[]) => {
    if (!holding) return set(...args);
    return holding.then(() => set(...args));
  });
  const interest = new ClusterInterest(holdable, sub, me, redis.keyPrefix, {
    ackTimeoutMs: 1_000,
    followIdleMs: 0,
  });
  await interest.announce(d, () => [`${d}/a/#`], false);
  holding = new Promise((resolve) => (release = resolve));
  const left = interest.leave(d);
  const holdsNothing = (): boolean => false;
  // Idle for longer than the bound at each sweep: only the leave under way keeps the tenant.
  for (let sweep = 0; sweep < 3; sweep++) interest.unfollowIdle(holdsNothing);
  expect(interest.followedCount).toBe(1);
  holding = undefined;
  release();
  await left;
  expect(await pub.hget(`${redis.keyPrefix}n:{${d}}`, me)).toBeNull();
  for (let sweep = 0; sweep < 2; sweep++) interest.unfollowIdle(holdsNothing);
  expect(interest.followedCount).toBe(0);
});

it('a removal Redis refused is made again by the next heartbeat; then the tenant is let go', async () => {
  const d = domain();
  const keys = interestTable(d);
  const b = await node('b', QUICK_UNFOLLOW);
  await b.addPattern(`${d}/rooms/#`);
  // The table turned into a string: Redis refuses the removal (WRONGTYPE) before changing it.
  await keys.client.del(keys.table);
  await keys.client.set(keys.table, 'not a hash');
  await expect(b.removePattern(`${d}/rooms/#`)).rejects.toMatchObject({
    code: 'BUS_UNAVAILABLE',
  });
  // The entry as the refused removal left it.
  await keys.client.del(keys.table);
  await keys.client.hset(keys.table, b.nodeId, `${d}/rooms/#`);
  await waitFor(
    'the next heartbeat to remove the entry',
    async () => (await keys.client.hget(keys.table, b.nodeId)) === null,
  );
  await waitFor('b to let the tenant go', () => b.stats().followedDomains === 0);
});

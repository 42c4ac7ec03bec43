import { LocalRedisCluster, waitFor } from '@fleetwire/testkit';
import { Cluster, Redis } from 'ioredis';
import { afterAll, beforeAll, expect, it } from 'vitest';

import { Inbox } from './bus-contract.js';
import { clusterNodes } from './cluster-nodes.js';
import { RedisClusterBus } from './redis-cluster-bus.js';

// A private cluster: this suite kills one of its masters and moves a slot.
let cluster: LocalRedisCluster;
beforeAll(async () => {
  cluster = await LocalRedisCluster.launch();
});
afterAll(() => cluster.dispose());

const text = (s: string): Uint8Array => Buffer.from(s);
const KEEP = { maxAgeMs: 60_000, maxCount: 100, horizonMs: 60_000 };

it('a master restart: both nodes report the loss, recover by themselves, and topics, inboxes and history work again', async () => {
  const startup = clusterNodes(cluster.addresses);
  const [a, b] = await Promise.all(
    ['a', 'b'].map((id) => RedisClusterBus.connect({ nodes: startup, nodeId: id })),
  );
  const probe = new Cluster(startup);
  try {
    const statuses: boolean[] = [];
    b!.onStatus((ready) => statuses.push(ready));
    const inB = new Inbox(b!);
    await b!.addPattern('acme/devices/+/telemetry');
    await b!.listen('node:b');
    await a!.publish('acme/devices/d1/telemetry', text('before'));
    await inB.until(() => inB.topics.length, 1);

    // The master holding the domain's slot: its channel, keys and b's subscription are there.
    const slot = Number(await probe.call('CLUSTER', 'KEYSLOT', 'fw:t:{acme}'));
    const owner = (probe.slots[slot] as string[])[0] as string;
    const master = cluster.nodes.find((node) => node.address === owner)!;
    await master.kill();
    await waitFor('b to report the loss', () => statuses.includes(false));
    await master.start();
    await cluster.waitUntilOk();
    await waitFor('both nodes ready again', () => a!.ready && b!.ready, 30_000);
    expect(statuses.at(-1)).toBe(true);

    await a!.publish('acme/devices/d1/telemetry', text('after'));
    await inB.until(() => inB.topics.length, 2);
    expect(inB.topics.map((m) => m.text)).toEqual(['before', 'after']);
    expect(await a!.send('node:b', text('hello'))).toBe(1);
    await inB.until(() => inB.inboxes.length, 1);
    // The restarted master lost the history (no persistence): a new epoch starts.
    const [position] = await a!.append([
      { topic: 'acme/devices/d2/telemetry', payload: text('appended'), retention: KEEP },
    ]);
    await inB.until(() => inB.topics.length, 3);
    expect(inB.topics[2]).toEqual({ topic: 'acme/devices/d2/telemetry', text: 'appended' });
    expect(position?.epoch).toMatch(/^[0-9a-f]{12}$/);
    await b!.sync('acme');
  } finally {
    probe.disconnect();
    await Promise.all([a!.close(), b!.close()]);
  }
});

/** Moves a slot and its keys to another master, as `redis-cli --cluster reshard` does. */
async function moveSlot(slot: number, from: string, to: string): Promise<void> {
  const connect = (address: string): Redis => {
    const client = new Redis(`redis://${address}`);
    client.on('error', () => undefined);
    return client;
  };
  const [source, target] = [connect(from), connect(to)];
  try {
    const [sourceId, targetId] = await Promise.all(
      [source, target].map(async (r) => String(await r.call('CLUSTER', 'MYID'))),
    );
    await target.call('CLUSTER', 'SETSLOT', slot, 'IMPORTING', sourceId!);
    await source.call('CLUSTER', 'SETSLOT', slot, 'MIGRATING', targetId!);
    const keys = (await source.call('CLUSTER', 'GETKEYSINSLOT', slot, 1000)) as string[];
    const [host, port] = to.split(':') as [string, string];
    if (keys.length > 0) await source.call('MIGRATE', host, port, '', 0, 5000, 'KEYS', ...keys);
    for (const address of cluster.addresses) {
      const node = connect(address);
      await node.call('CLUSTER', 'SETSLOT', slot, 'NODE', targetId!);
      node.disconnect();
    }
  } finally {
    source.disconnect();
    target.disconnect();
  }
}

it('a slot moving to another master: the listener reports the loss, resubscribes at the new master, and topics and history follow', async () => {
  const startup = clusterNodes(cluster.addresses);
  const [a, b] = await Promise.all(
    ['ra', 'rb'].map((id) => RedisClusterBus.connect({ nodes: startup, nodeId: id })),
  );
  const probe = new Cluster(startup);
  try {
    const statuses: boolean[] = [];
    b!.onStatus((ready) => statuses.push(ready));
    const inB = new Inbox(b!);
    await b!.addPattern('globex/#');
    const [first] = await a!.append([
      { topic: 'globex/devices/d1/telemetry', payload: text('before'), retention: KEEP },
    ]);
    await inB.until(() => inB.topics.length, 1);

    const slot = Number(await probe.call('CLUSTER', 'KEYSLOT', 'fw:t:{globex}'));
    const owner = (probe.slots[slot] as string[])[0] as string;
    await moveSlot(
      slot,
      owner,
      cluster.addresses.find((address) => address !== owner)!,
    );
    // Without a look at the slot map, b would stay subscribed to nothing (and say it is ready).
    await waitFor('b to report the loss', () => statuses.includes(false));
    await waitFor('both nodes ready again', () => a!.ready && b!.ready, 30_000);

    await a!.publish('globex/devices/d1/telemetry', text('after'));
    await a!.append([
      { topic: 'globex/devices/d1/telemetry', payload: text('appended'), retention: KEEP },
    ]);
    await inB.until(() => inB.topics.length, 3);
    expect(inB.topics.map((m) => m.text)).toEqual(['before', 'after', 'appended']);
    // The history moved with the slot: still one epoch, both messages after the first.
    const read = await b!.readHistory({
      pattern: 'globex/#',
      after: first!,
      maxAgeMs: 60_000,
      maxMessages: 10,
      maxBytes: 1_000_000,
      maxStreams: 10,
    });
    expect(read).toMatchObject({ ok: true, entries: [{ payload: Buffer.from('appended') }] });
  } finally {
    probe.disconnect();
    await Promise.all([a!.close(), b!.close()]);
  }
});

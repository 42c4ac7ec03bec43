import { Cluster } from 'ioredis';
import { expect, it } from 'vitest';

import { testRedisCluster } from './test-env.js';

it('the Redis Cluster has three masters sharing the 16384 slots, sharded pub/sub works, close() removes the suite keys', async () => {
  const redis = await testRedisCluster();
  expect(redis.nodes).toHaveLength(3);
  const startup = redis.nodes.map((address) => {
    const [host, port] = address.split(':') as [string, string];
    return { host, port: Number(port) };
  });
  const cluster = new Cluster(startup, { shardedSubscribers: true });
  const subscriber = new Cluster(startup, { shardedSubscribers: true });
  try {
    const shards = (await cluster.call('CLUSTER', 'SHARDS')) as unknown[][];
    expect(shards).toHaveLength(3);
    const info = String(await cluster.call('CLUSTER', 'INFO'));
    expect(info).toMatch(/^cluster_state:ok\r?$/m);
    expect(info).toMatch(/^cluster_slots_assigned:16384\r?$/m);

    // Keys in every slot range, so close() must walk all three masters.
    const keys = [...Array(30).keys()].map((i) => `${redis.keyPrefix}k${i}`);
    await Promise.all(keys.map((key) => cluster.set(key, '1')));
    const holders = await Promise.all(
      cluster.nodes('master').map((node) => node.dbsize().then((n) => n > 0)),
    );
    expect(holders).toEqual([true, true, true]);

    const channel = `${redis.keyPrefix}{shard}ch`;
    const received = new Promise<string>((resolve) =>
      subscriber.on('smessage', (_channel: string, message: string) => resolve(message)),
    );
    await subscriber.ssubscribe(channel);
    expect(await cluster.spublish(channel, 'hello')).toBe(1);
    expect(await received).toBe('hello');

    await redis.close();
    const left = await Promise.all(keys.map((key) => cluster.exists(key)));
    expect(left.every((n) => n === 0)).toBe(true);
  } finally {
    cluster.disconnect();
    subscriber.disconnect();
  }
});

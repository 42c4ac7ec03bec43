import { TcpProxy, testRedis, waitFor, type TestRedis } from '@fleetwire/testkit';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

import { BusError } from './bus.js';
import { RedisBus } from './redis-bus.js';
import { RedisPresence } from './redis-presence.js';

// A Redis that stops answering without closing anything (packets dropped, a hung server): the
// proxy keeps every connection open and lets no byte through. Without the reply timeout the
// drivers would wait for the kernel to give up (~15 min) and these tests would time out.
const REPLY_TIMEOUT_MS = 400;

let redis: TestRedis;
let proxy: TcpProxy;
const closers: Array<() => Promise<unknown>> = [];
beforeAll(async () => {
  redis = await testRedis();
});
afterAll(() => redis.close());
afterEach(async () => {
  await Promise.allSettled(closers.splice(0).map((close) => close()));
});

async function proxied(): Promise<string> {
  proxy = await TcpProxy.start('127.0.0.1', Number(new URL(redis.url).port));
  closers.push(() => proxy.close());
  return proxy.rewrite(redis.url);
}

/** A bus node whose connections go through the proxy. */
async function proxiedBus(name: string): Promise<RedisBus> {
  const bus = await RedisBus.connect({
    url: await proxied(),
    nodeId: `${redis.keyPrefix}${name}`,
    prefix: redis.keyPrefix,
    replyTimeoutMs: REPLY_TIMEOUT_MS,
  });
  closers.push(() => bus.close());
  return bus;
}

function statusBecomes(bus: RedisBus, ready: boolean): Promise<void> {
  return new Promise((resolve) => {
    if (bus.ready === ready) return resolve();
    bus.onStatus((now) => {
      if (now === ready) resolve();
    });
  });
}

describe('a Redis that goes silent', () => {
  it('the bus reports itself down with nothing to send (its heartbeat), fails publishes, and is back after', async () => {
    const silent = await proxiedBus('silent');
    const direct = await RedisBus.connect({
      url: redis.url,
      nodeId: `${redis.keyPrefix}direct`,
      prefix: redis.keyPrefix,
    });
    closers.push(() => direct.close());
    const received: string[] = [];
    silent.onTopicMessage((topic) => received.push(topic));
    await silent.addPattern('t/#');
    expect(silent.ready).toBe(true);

    // Nothing is sent: only the heartbeat can notice.
    const down = statusBecomes(silent, false);
    proxy.freeze();
    await down;
    await expect(silent.publish('t/x', Buffer.from('{}'))).rejects.toBeInstanceOf(BusError);

    const up = statusBecomes(silent, true);
    proxy.up();
    await up;
    // Resubscribed: a message published elsewhere reaches it again.
    await waitFor(
      'a message through the reconnected subscriber',
      async () => {
        await direct.publish('t/after', Buffer.from('{}'));
        return received.includes('t/after');
      },
      10_000,
    );
    await silent.publish('t/x', Buffer.from('{}'));
  }, 30_000);

  it('a connection cut while a command waits: the one that replaces it is not cut by the old timer', async () => {
    const bus = await proxiedBus('cut');
    const statuses: boolean[] = [];
    bus.onStatus((ready) => statuses.push(ready));

    // A publish waits for its answer; the connection is then reset and comes back at once.
    proxy.freeze();
    const sentAt = performance.now();
    const waiting = bus.publish('t/x', Buffer.from('{}')).catch(() => undefined);
    proxy.down();
    proxy.up();
    await waiting;
    await statusBecomes(bus, true);
    // The waiting publish's reply timer would fire here, on the new connection.
    await new Promise((resolve) =>
      setTimeout(resolve, sentAt + 3 * REPLY_TIMEOUT_MS - performance.now()),
    );
    expect(statuses).toEqual([false, true]);
    await bus.publish('t/x', Buffer.from('{}'));
  }, 30_000);

  it('a presence write fails instead of waiting, and the next one after is stored', async () => {
    const presence = await RedisPresence.connect({
      url: await proxied(),
      prefix: redis.keyPrefix,
      ttlMs: 30_000,
      replyTimeoutMs: REPLY_TIMEOUT_MS,
    });
    closers.push(() => presence.close());
    const device = { tenant: 't1', deviceId: 'd1' };
    await presence.markOnline(device, 'node-a', Date.now());

    proxy.freeze();
    await expect(presence.markOnline(device, 'node-b', Date.now())).rejects.toMatchObject({
      name: 'BusError',
      code: 'BUS_UNAVAILABLE',
      message: expect.stringMatching(/^presence markOnline failed: /),
    });
    proxy.up();
    await waitFor(
      'a presence write through the reconnected client',
      () =>
        presence.markOnline(device, 'node-b', Date.now()).then(
          () => true,
          () => false,
        ),
      10_000,
    );
    expect(await presence.get(device, Date.now())).toMatchObject({ node: 'node-b' });
  }, 30_000);
});

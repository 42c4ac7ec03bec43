import { waitFor } from '@fleetwire/testkit';
import { afterEach, describe, expect, it } from 'vitest';

import { BusError, type Bus } from './bus.js';
import { Inbox } from './bus-contract.js';
import { FabricBus } from './fabric-bus.js';
import { compareOffsets, parseOffset } from './history.js';
import { LocalFabric } from './local-fabric.js';
import { MemoryBusHub, type MemoryBus } from './memory-bus.js';
import { settledSoon } from './promise-test-support.js';

const text = (s: string): Uint8Array => Buffer.from(s);
const retention = { maxAgeMs: 60_000, maxCount: 100, horizonMs: 60_000 };

interface Process {
  driver: MemoryBus;
  fabric: LocalFabric;
  workers: FabricBus[];
}

let processes: Process[] = [];
afterEach(async () => {
  for (const p of processes) {
    await Promise.all(p.workers.map((w) => w.close()));
    p.fabric.close();
    await p.driver.close();
  }
  processes = [];
});

async function startProcess(hub: MemoryBusHub, name: string, workers: number): Promise<Process> {
  const driver = hub.connect(name);
  const fabric = new LocalFabric(driver);
  const buses = await Promise.all(
    [...Array(workers).keys()].map((i) => FabricBus.connect(fabric.attach(), `${name}-w${i}`)),
  );
  const started = { driver, fabric, workers: buses };
  processes.push(started);
  return started;
}

/** A driver's calls, by method and first argument (`publish t/1`), in order. */
interface Recorded {
  driver: Bus;
  calls: string[];
}

/**
 * A memory bus that records each call and lets a test take over a method: `override` returns
 * what the call returns, or undefined to run the real one.
 */
function recording(
  bus: MemoryBus,
  override: (method: string, args: unknown[]) => Promise<unknown> | undefined = () => undefined,
): Recorded {
  const calls: string[] = [];
  const driver = new Proxy(bus, {
    get(target, key, receiver) {
      const value: unknown = Reflect.get(target, key, receiver);
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        if (typeof key === 'string' && !key.startsWith('on') && key !== 'holdings') {
          calls.push(`${key} ${String(args[0] ?? '')}`.trim());
          const taken = override(key, args);
          if (taken) return taken;
        }
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
  return { driver, calls };
}

describe('LocalFabric', () => {
  it('hands a publish to a sibling worker in-process, without the driver', async () => {
    const hub = new MemoryBusHub();
    const { driver, fabric, workers } = await startProcess(hub, 'p', 2);
    const [w0, w1] = workers as [FabricBus, FabricBus];
    const in1 = new Inbox(w1);
    await w1.addPattern('acme/devices/+/telemetry');
    // The driver is gone: only the in-process path can carry the message.
    await driver.close();
    await expect(w0.publish('acme/devices/d1/telemetry', text('m1'))).rejects.toMatchObject({
      code: 'BUS_CLOSED',
    });
    await in1.until(() => in1.topics.length, 1);
    expect(in1.topics).toEqual([{ topic: 'acme/devices/d1/telemetry', text: 'm1' }]);
    expect(fabric.siblingDeliveries).toBe(1);
  });

  it('holds a pattern once at the driver for all its workers and lets go with the last', async () => {
    const hub = new MemoryBusHub();
    const { driver, workers } = await startProcess(hub, 'p', 2);
    const [w0, w1] = workers as [FabricBus, FabricBus];
    await w0.addPattern('t/#');
    await w1.addPattern('t/#');
    await w1.listen('node:x');
    expect(driver.holdings()).toEqual({ patterns: 1, inboxes: 1 });
    await w0.removePattern('t/#');
    expect(driver.holdings()).toEqual({ patterns: 1, inboxes: 1 });
    // A worker that closes lets go of what it held.
    await w1.close();
    expect(driver.holdings()).toEqual({ patterns: 0, inboxes: 0 });
  });

  it('delivers a send once to a sibling and once to another process, and counts both', async () => {
    const hub = new MemoryBusHub();
    const one = await startProcess(hub, 'one', 2);
    const two = await startProcess(hub, 'two', 1);
    const [sender, sibling] = one.workers as [FabricBus, FabricBus];
    const [remote] = two.workers as [FabricBus];
    const [inSender, inSibling, inRemote] = [sender, sibling, remote].map((b) => new Inbox(b)) as [
      Inbox,
      Inbox,
      Inbox,
    ];
    await sibling.listen('dev:acme/d1');
    await remote.listen('dev:acme/d1');
    expect(await sender.send('dev:acme/d1', text('takeover'))).toBe(2);
    // A marker after it on the same inbox: whatever came twice would be before the marker.
    expect(await sender.send('dev:acme/d1', text('marker'))).toBe(2);
    await inSibling.until(() => inSibling.inboxes.length, 2);
    await inRemote.until(() => inRemote.inboxes.length, 2);
    await sibling.sync();
    expect(inSibling.inboxes.map((m) => m.text)).toEqual(['takeover', 'marker']);
    expect(inRemote.inboxes.map((m) => m.text)).toEqual(['takeover', 'marker']);
    expect(inSender.inboxes).toEqual([]);
    // The other process's send reaches the sibling once too (not taken for an echo).
    expect(await remote.send('dev:acme/d1', text('takeover'))).toBe(2);
    await inSibling.until(() => inSibling.inboxes.length, 3);
    expect(inSibling.inboxes.map((m) => m.text)).toEqual(['takeover', 'marker', 'takeover']);
  });

  it('still drops the echo of a send when the driver blipped not-ready meanwhile (its subscriptions held)', async () => {
    const hub = new MemoryBusHub();
    const memory = hub.connect('one');
    // A driver whose publishing connection drops and comes back while a send goes through, as
    // RedisBus reports it: the subscriber connection, and the echo on its way, are unaffected.
    const statusHandlers: ((ready: boolean) => void)[] = [];
    const driver = new Proxy(memory, {
      get(target, key, receiver) {
        if (key === 'onStatus') return (h: (ready: boolean) => void) => statusHandlers.push(h);
        if (key === 'send') {
          return (inbox: string, payload: Uint8Array) => {
            for (const h of statusHandlers) h(false);
            for (const h of statusHandlers) h(true);
            return target.send(inbox, payload);
          };
        }
        const value: unknown = Reflect.get(target, key, receiver);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
    const fabric = new LocalFabric(driver);
    const workers = await Promise.all(
      [0, 1].map((i) => FabricBus.connect(fabric.attach(), `one-w${i}`)),
    );
    processes.push({ driver: memory, fabric, workers });
    const [sender, sibling] = workers as [FabricBus, FabricBus];
    const inSibling = new Inbox(sibling);
    await sibling.listen('node:one-w1');
    await sender.send('node:one-w1', text('command'));
    await sender.send('node:one-w1', text('marker'));
    await inSibling.until(() => inSibling.inboxes.length, 2);
    await sibling.sync();
    expect(inSibling.inboxes.map((m) => m.text)).toEqual(['command', 'marker']);
  });

  it('gives every worker the appended messages in one position order, the appender included', async () => {
    const hub = new MemoryBusHub();
    const { workers } = await startProcess(hub, 'p', 2);
    const [w0, w1] = workers as [FabricBus, FabricBus];
    const seen: [string[], string[]] = [[], []];
    w0.onTopicMessage((_t, payload, position) => seen[0].push(`${payload}@${position?.offset}`));
    w1.onTopicMessage((_t, payload, position) => seen[1].push(`${payload}@${position?.offset}`));
    await w0.addPattern('acme/#');
    await w1.addPattern('acme/#');
    const appends = [];
    for (let i = 0; i < 20; i++) {
      const from = i % 2 === 0 ? w0 : w1;
      appends.push(
        from.append([{ topic: `acme/t/${i % 3}`, payload: text(String(i)), retention }]),
      );
    }
    await Promise.all(appends);
    await w0.sync();
    await w1.sync();
    expect(seen[0]).toHaveLength(20);
    expect(seen[1]).toEqual(seen[0]);
    const first = (await Promise.all(appends))
      .flat()
      .sort((x, y) => compareOffsets(parseOffset(x.offset)!, parseOffset(y.offset)!))[0]!;
    const read = await w1.readHistory({
      pattern: 'acme/#',
      after: first,
      maxAgeMs: 60_000,
      maxMessages: 100,
      maxBytes: 1_000_000,
      maxStreams: 10,
    });
    expect(read.ok && read.entries.map((e) => `${e.payload}@${e.position.offset}`)).toEqual(
      seen[0].slice(1),
    );
    expect(read.ok && Buffer.isBuffer(read.entries[0]?.payload)).toBe(true);
  });

  it('forgets a refused addPattern: the next holder asks the driver again, and every reference is let go of', async () => {
    const hub = new MemoryBusHub();
    const memory = hub.connect('one');
    let refusals = 1;
    // Like RedisClusterBus when Redis is away: the pattern is held (counted), the request fails.
    const { driver, calls } = recording(memory, (method, args) => {
      if (method !== 'addPattern' || refusals === 0) return undefined;
      refusals -= 1;
      return memory.addPattern(args[0] as string).then(() => {
        throw new BusError('BUS_UNAVAILABLE', 'Redis unavailable');
      });
    });
    const fabric = new LocalFabric(driver);
    const worker = await FabricBus.connect(fabric.attach(), 'one-w0');
    processes.push({ driver: memory, fabric, workers: [worker] });
    const other = await startProcess(hub, 'two', 1);
    const heard = new Inbox(worker);

    await expect(worker.addPattern('acme/#')).rejects.toMatchObject({ code: 'BUS_UNAVAILABLE' });
    // A second subscriber of the pattern on this worker: not the first one's refusal, a new try.
    await worker.addPattern('acme/#');
    expect(calls.filter((c) => c === 'addPattern acme/#')).toHaveLength(2);
    await other.workers[0]!.publish('acme/t', text('after the retry'));
    await heard.until(() => heard.topics.length, 1);
    expect(heard.topics).toEqual([{ topic: 'acme/t', text: 'after the retry' }]);
    // Both holders leave: the driver lets go of both references the fabric took.
    await worker.removePattern('acme/#');
    expect(memory.holdings().patterns).toBe(1);
    await worker.removePattern('acme/#');
    expect(memory.holdings().patterns).toBe(0);
  });

  it('a worker that closes with requests in flight settles them all and refuses later ones; the driver sees none of those', async () => {
    const hub = new MemoryBusHub();
    const memory = hub.connect('one');
    const { driver, calls } = recording(memory);
    const fabric = new LocalFabric(driver);
    const worker = await FabricBus.connect(fabric.attach(), 'one-w0');
    processes.push({ driver: memory, fabric, workers: [worker] });
    await worker.addPattern('held/#');
    await worker.listen('node:held');

    const inFlight = [
      worker.publish('held/1', text('m')),
      worker.send('node:elsewhere', text('c')),
      worker.addPattern('flying/#'),
      worker.listen('node:flying'),
    ];
    const closing = worker.close();
    const late = [
      worker.publish('late/1', text('m')),
      worker.addPattern('late/#'),
      worker.listen('node:late'),
      worker.send('node:late', text('c')),
      worker.sync(),
    ];
    const outcomes = Promise.allSettled([...inFlight, ...late]);
    // Refused at once, without a round trip to the fabric.
    for (const request of late) expect(await settledSoon(request)).toBe(true);
    for (const result of (await outcomes).slice(inFlight.length)) {
      expect(result).toMatchObject({ status: 'rejected', reason: { code: 'BUS_CLOSED' } });
    }
    await closing;
    for (const request of inFlight) expect(await settledSoon(request)).toBe(true);
    expect(calls.filter((c) => c.includes('late'))).toEqual([]);
    // What it held, in flight included, is let go of.
    expect(memory.holdings()).toEqual({ patterns: 0, inboxes: 0 });
    expect(worker.ready).toBe(false);
  });

  it('a worker whose fabric was closed (the supervisor ends the process) rejects what was in flight and closes at once', async () => {
    const hub = new MemoryBusHub();
    const memory = hub.connect('one');
    // A publish the driver never answers: in flight when the fabric goes.
    const { driver, calls } = recording(memory, (method) =>
      method === 'publish' ? new Promise(() => undefined) : undefined,
    );
    const fabric = new LocalFabric(driver);
    const worker = await FabricBus.connect(fabric.attach(), 'one-w0');
    processes.push({ driver: memory, fabric, workers: [] });
    const statuses: boolean[] = [];
    worker.onStatus((ready) => statuses.push(ready));
    const inFlight = worker.publish('acme/t', text('m'));
    const outcome = inFlight.then(
      () => 'resolved',
      (error: BusError) => error.code,
    );
    await waitFor('the publish to reach the driver', () => calls.includes('publish acme/t'));

    fabric.close();
    await waitFor('the in-flight publish to settle', () => settledSoon(inFlight), 5_000);
    expect(await outcome).toBe('BUS_CLOSED');
    expect(worker.ready).toBe(false);
    expect(statuses).toEqual([false]);
    await expect(worker.listen('node:late')).rejects.toMatchObject({ code: 'BUS_CLOSED' });
    expect(await settledSoon(worker.close())).toBe(true);
    expect(calls).toEqual(['publish acme/t']);
  });
});

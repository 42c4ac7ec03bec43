import { afterEach, describe, expect, it } from 'vitest';

import { Inbox } from './bus-contract.js';
import { FabricBus } from './fabric-bus.js';
import { compareOffsets, parseOffset } from './history.js';
import { LocalFabric } from './local-fabric.js';
import { MemoryBusHub, type MemoryBus } from './memory-bus.js';

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
      maxStreams: 10,
    });
    expect(read.ok && read.entries.map((e) => `${e.payload}@${e.position.offset}`)).toEqual(
      seen[0].slice(1),
    );
    expect(read.ok && Buffer.isBuffer(read.entries[0]?.payload)).toBe(true);
  });
});

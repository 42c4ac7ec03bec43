import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import type { Bus } from './bus.js';
import { historyContract } from './history-contract.js';

export interface BusPair {
  a: Bus;
  b: Bus;
  c: Bus;
  /** Pattern subscriptions the broker itself holds for all three nodes (Redis PUBSUB NUMPAT). */
  brokerPatterns(): Promise<number>;
  close(): Promise<void>;
}

/** Collects what a bus delivers, so a test can await the n-th message. */
export class Inbox {
  readonly topics: { topic: string; text: string }[] = [];
  readonly inboxes: { inbox: string; text: string }[] = [];
  private waiters: (() => void)[] = [];

  constructor(bus: Bus) {
    bus.onTopicMessage((topic, payload) =>
      this.push(() => this.topics.push({ topic, text: payload.toString() })),
    );
    bus.onInboxMessage((inbox, payload) =>
      this.push(() => this.inboxes.push({ inbox, text: payload.toString() })),
    );
  }

  /** Resolves once `count()` reaches n. */
  async until(count: () => number, n: number): Promise<void> {
    while (count() < n) await new Promise<void>((resolve) => this.waiters.push(resolve));
  }

  private push(record: () => void): void {
    record();
    const waiters = this.waiters;
    this.waiters = [];
    waiters.forEach((w) => w());
  }
}

const text = (s: string): Uint8Array => Buffer.from(s);

/**
 * What every Bus driver must do, run against the in-memory twin (unit) and Redis (integration).
 * `connect` gives three nodes sharing one broker.
 */
export function busContract(name: string, connect: () => Promise<BusPair>): void {
  describe(`Bus contract: ${name}`, () => {
    let nodes: BusPair;
    beforeEach(async () => {
      nodes = await connect();
    });
    afterEach(async () => {
      await nodes.close();
    });
    // Every test writes history under its own domain: the broker keeps it across tests.
    let domains = 0;
    historyContract(
      () => nodes,
      () => `h${process.pid}x${(domains += 1)}x${Date.now()}`,
    );

    it('delivers a publish to each other node with a matching pattern, once, never to itself', async () => {
      const { a, b, c } = nodes;
      const [inA, inB, inC] = [new Inbox(a), new Inbox(b), new Inbox(c)];
      // b holds two patterns that both match: it must still get the message once.
      await b.addPattern('acme/devices/+/telemetry');
      await b.addPattern('acme/devices/#');
      await c.addPattern('acme/rooms/#');
      await a.addPattern('acme/devices/#');
      await a.publish('acme/devices/d1/telemetry', text('m1'));
      await a.publish('acme/rooms/r1', text('m2'));
      // A marker both b and c hold, so "nothing else arrived before it" is checkable.
      await b.addPattern('acme/marker');
      await c.addPattern('acme/marker');
      await a.publish('acme/marker', text('end'));
      await inB.until(() => inB.topics.length, 2);
      await inC.until(() => inC.topics.length, 2);
      expect(inB.topics).toEqual([
        { topic: 'acme/devices/d1/telemetry', text: 'm1' },
        { topic: 'acme/marker', text: 'end' },
      ]);
      expect(inC.topics).toEqual([
        { topic: 'acme/rooms/r1', text: 'm2' },
        { topic: 'acme/marker', text: 'end' },
      ]);
      expect(inA.topics).toEqual([]);
    });

    it('keeps each publisher’s order', async () => {
      const { a, b } = nodes;
      const inB = new Inbox(b);
      await b.addPattern('t/#');
      for (let i = 0; i < 200; i++) await a.publish(`t/${i % 3}`, text(String(i)));
      await inB.until(() => inB.topics.length, 200);
      expect(inB.topics.map((m) => Number(m.text))).toEqual([...Array(200).keys()]);
    });

    it('keeps the order of publishes sent without waiting for each other', async () => {
      const { a, b } = nodes;
      const inB = new Inbox(b);
      await b.addPattern('t/#');
      await Promise.all(
        [...Array(200).keys()].map((i) => a.publish(`t/${i % 3}`, text(String(i)))),
      );
      await inB.until(() => inB.topics.length, 200);
      expect(inB.topics.map((m) => Number(m.text))).toEqual([...Array(200).keys()]);
    });

    it('sends what was published and sent in the turn close() was called in, before closing', async () => {
      const { a, b } = nodes;
      const inB = new Inbox(b);
      await b.addPattern('last/#');
      await b.listen('last-inbox');
      const published = a.publish('last/words', text('bye'));
      const sent = a.send('last-inbox', text('bye'));
      const closed = a.close();
      await Promise.all([published, sent, closed]);
      await inB.until(() => inB.topics.length + inB.inboxes.length, 2);
      expect(inB.topics).toEqual([{ topic: 'last/words', text: 'bye' }]);
      expect(inB.inboxes).toEqual([{ inbox: 'last-inbox', text: 'bye' }]);
    });

    it('filters exactly: a wildcard level does not span levels, # matches its parent', async () => {
      const { a, b } = nodes;
      const inB = new Inbox(b);
      await b.addPattern('x/+/y');
      await b.addPattern('p/#');
      await a.publish('x/1/2/y', text('no'));
      await a.publish('xz/1/y', text('no'));
      await a.publish('p', text('parent'));
      await a.publish('x/1/y', text('yes'));
      await inB.until(() => inB.topics.length, 2);
      expect(inB.topics.map((m) => m.text)).toEqual(['parent', 'yes']);
    });

    it('stops delivering when the last holder of a pattern lets go', async () => {
      const { a, b } = nodes;
      const inB = new Inbox(b);
      await b.addPattern('q/#');
      await b.addPattern('q/#');
      await b.removePattern('q/#');
      await a.publish('q/1', text('still'));
      await inB.until(() => inB.topics.length, 1);
      await b.removePattern('q/#');
      expect(b.holdings()).toEqual({ patterns: 0, inboxes: 0 });
      expect(await nodes.brokerPatterns()).toBe(0);
      await b.addPattern('r');
      await a.publish('q/2', text('gone'));
      await a.publish('r', text('marker'));
      await inB.until(() => inB.topics.length, 2);
      expect(inB.topics.map((m) => m.text)).toEqual(['still', 'marker']);
    });

    it('sends to an inbox and says how many listened; zero when nobody does', async () => {
      const { a, b } = nodes;
      const inB = new Inbox(b);
      expect(await a.send('dev:acme/d1', text('hello'))).toBe(0);
      await b.listen('dev:acme/d1');
      expect(await a.send('dev:acme/d1', text('hello'))).toBe(1);
      await inB.until(() => inB.inboxes.length, 1);
      expect(inB.inboxes).toEqual([{ inbox: 'dev:acme/d1', text: 'hello' }]);
      await b.unlisten('dev:acme/d1');
      expect(await a.send('dev:acme/d1', text('again'))).toBe(0);
      expect(b.holdings()).toEqual({ patterns: 0, inboxes: 0 });
    });
  });
}

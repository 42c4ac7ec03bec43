import { MemoryBusHub, type Appended, type Position } from '@fleetwire/bus';
import { createRegistry } from '@fleetwire/metrics';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';

import { EdgeMetrics } from '../metrics.js';
import { BusOutbox } from './bus-outbox.js';
import { DependencyFailures } from './dependency-failures.js';

const RETENTION = { maxCount: 100, maxAgeMs: 60_000, horizonMs: 60_000 };
const LIMITS = { maxMessages: 1_000, maxBytes: 1 << 20, maxGapTopics: 10 };

/** The end of the current event-loop turn, when the outbox sends what the turn queued. */
const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/**
 * An in-memory bus whose appends are answered when the test says so: what the outbox sends, and
 * when, is what is checked.
 */
function heldBus() {
  const bus = new MemoryBusHub().connect('node-1');
  const sent: { topics: string[]; answer: () => Promise<void>; fail: () => Promise<void> }[] = [];
  const append = bus.append.bind(bus);
  bus.append = (batch: readonly Appended[]): Promise<Position[]> =>
    new Promise((resolve, reject) => {
      sent.push({
        topics: batch.map((m) => m.topic),
        answer: async () => {
          await append(batch).then(resolve, reject);
          await nextTurn();
        },
        fail: async () => {
          reject(new Error('Connection is closed.'));
          await nextTurn();
        },
      });
    });
  const metrics = new EdgeMetrics(createRegistry({ service: 'edge', node: 'test' }));
  const outbox = new BusOutbox(
    bus,
    LIMITS,
    metrics,
    new DependencyFailures(pino({ level: 'silent' })),
  );
  const push = (topic: string) => outbox.push(topic, Buffer.from(topic), RETENTION, Date.now());
  return { outbox, sent, push };
}

describe('BusOutbox', () => {
  it('sends what one event-loop turn published as one append per tenant', async () => {
    const { outbox, sent, push } = heldBus();
    for (const n of [1, 2, 3]) push(`acme/devices/d${n}/presence`);
    expect(sent).toEqual([]);
    await nextTurn();
    expect(sent.map((s) => s.topics)).toEqual([
      ['acme/devices/d1/presence', 'acme/devices/d2/presence', 'acme/devices/d3/presence'],
    ]);
    await sent[0]?.answer();
    expect(outbox.size).toBe(0);
  });

  it("holds a tenant's next batch until its append in flight is answered; other tenants go on", async () => {
    const { outbox, sent, push } = heldBus();
    push('acme/devices/d1/telemetry');
    await nextTurn();
    push('acme/devices/d1/telemetry/2');
    push('acme/devices/d1/telemetry/3');
    push('other/devices/x/telemetry');
    await nextTurn();
    // acme's second batch would overtake the first if the client resent the first (a connection
    // still opening): it waits; the other tenant does not.
    expect(sent.map((s) => s.topics)).toEqual([
      ['acme/devices/d1/telemetry'],
      ['other/devices/x/telemetry'],
    ]);
    await sent[0]?.answer();
    expect(sent.map((s) => s.topics)[2]).toEqual([
      'acme/devices/d1/telemetry/2',
      'acme/devices/d1/telemetry/3',
    ]);
    await sent[1]?.answer();
    await sent[2]?.answer();
    expect(outbox.size).toBe(0);
  });

  it('batches each tenant of an interleaved turn on its own', async () => {
    const { sent, push } = heldBus();
    for (let n = 0; n < 6; n++) push(`${n % 2 === 0 ? 'acme' : 'other'}/devices/d${n}/telemetry`);
    await nextTurn();
    expect(sent.map((s) => s.topics)).toEqual([
      ['acme/devices/d0/telemetry', 'acme/devices/d2/telemetry', 'acme/devices/d4/telemetry'],
      ['other/devices/d1/telemetry', 'other/devices/d3/telemetry', 'other/devices/d5/telemetry'],
    ]);
  });

  it("resends a tenant's failed batch after another tenant's append succeeded meanwhile", async () => {
    const { outbox, sent, push } = heldBus();
    push('acme/devices/d1/telemetry');
    push('other/devices/x/telemetry');
    await nextTurn();
    await sent[0]?.fail();
    await sent[1]?.answer();
    push('other/devices/x/telemetry/2');
    // Once everything out has answered, all that is queued goes again.
    await expect.poll(() => sent.length, { timeout: 5_000 }).toBe(4);
    expect(sent.slice(2).map((s) => s.topics)).toEqual(
      expect.arrayContaining([['acme/devices/d1/telemetry'], ['other/devices/x/telemetry/2']]),
    );
    await sent[2]?.answer();
    await sent[3]?.answer();
    expect(outbox.size).toBe(0);
  });

  it('sends at once what is queued or pushed once it is closing', async () => {
    const { outbox, sent, push } = heldBus();
    push('acme/devices/d1/presence');
    outbox.close();
    expect(sent.map((s) => s.topics)).toEqual([['acme/devices/d1/presence']]);
    push('other/devices/d2/presence');
    expect(sent.map((s) => s.topics)[1]).toEqual(['other/devices/d2/presence']);
  });
});

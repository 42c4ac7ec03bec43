import type { Bus, PresenceStore } from '@fleetwire/bus';
import { expect, it } from 'vitest';

import { decodeInboxMessage, inbox, type InboxMessage } from './core/node-messages.js';
import { valueOf, type TestClient, type TestEdge, type mintToken } from './test-support.js';

export interface RoutingUnderTest {
  /** Edge nodes `node-a`, `node-b`, `node-c`. */
  a: TestEdge;
  b: TestEdge;
  c: TestEdge;
  /** The presence store the nodes share (or one on the same Redis). */
  presence: PresenceStore;
  /** A bus connection of a node without an edge: it sends as a peer would, and reads its inbox. */
  peer: Bus;
  /** The next message on the peer's inbox. */
  peerInbox(): Promise<InboxMessage>;
  connect(edge: TestEdge, claims: Parameters<typeof mintToken>[0]): Promise<TestClient>;
}

/** Collects what arrives on a bus connection's node inbox, in order. */
export function inboxReader(bus: Bus): () => Promise<InboxMessage> {
  const queue: InboxMessage[] = [];
  const waiters: ((message: InboxMessage) => void)[] = [];
  bus.onInboxMessage((name, payload) => {
    if (name !== inbox.node(bus.nodeId)) return;
    const message = decodeInboxMessage(payload);
    const waiter = waiters.shift();
    if (waiter) waiter(message);
    else queue.push(message);
  });
  return () => {
    const queued = queue.shift();
    if (queued) return Promise.resolve(queued);
    return new Promise((resolve) => waiters.push(resolve));
  };
}

function commandFor(device: string, id: string, extra: Record<string, unknown> = {}): Buffer {
  return Buffer.from(
    JSON.stringify({
      type: 'command',
      id,
      from: 'ops',
      name: 'blink',
      replyTo: 'node-s',
      timeoutMs: 5_000,
      to: `acme/${device}`,
      ...extra,
    }),
  );
}

/**
 * Commands routed through presence to the node holding the device: what three edge nodes do
 * over the in-memory bus (unit tier) and over Redis (integration tier).
 */
export function routingScenarios(cluster: () => RoutingUnderTest): void {
  it('a device that reconnects to another node closes its old socket there (4002) without waiting for a renewal', async () => {
    const { a, b, connect } = cluster();
    const first = await connect(a, { sub: 'route-1', role: 'device' });
    const second = await connect(b, { sub: 'route-1', role: 'device' });
    expect(await first.closed).toEqual({ code: 4002, reason: 'replaced by a newer connection' });
    const dashboard = await connect(a, { sub: 'ops', role: 'dashboard' });
    dashboard.send({ type: 'command', id: 'r1', target: 'route-1', name: 'x' });
    expect(await second.next()).toMatchObject({ type: 'command', id: 'r1' });
    second.send({ type: 'ack', id: 'r1' });
    expect(await dashboard.next()).toEqual({ type: 'ack', id: 'r1' });
  });

  it('a late takeover (the device came back to this node since) leaves its connection open', async () => {
    const { a, connect, peer } = cluster();
    const device = await connect(a, { sub: 'route-back', role: 'device' });
    // As if node-b had taken the device before it reconnected to node-a, its takeover slow.
    const takeover = { type: 'takeover', node: 'node-b', to: 'acme/route-back' };
    await peer.send(inbox.node('node-a'), Buffer.from(JSON.stringify(takeover)));
    const dashboard = await connect(a, { sub: 'ops', role: 'dashboard' });
    dashboard.send({ type: 'command', id: 'back', target: 'route-back', name: 'x' });
    expect(await device.next()).toMatchObject({ type: 'command', id: 'back' });
    device.send({ type: 'ack', id: 'back' });
    expect(await dashboard.next()).toEqual({ type: 'ack', id: 'back' });
    expect(await device.roundTrip()).toEqual([]);
  });

  it('a takeover while the record reads offline (the taker lost the device again) leaves the connection open', async () => {
    const { a, connect, peer, presence } = cluster();
    const device = await connect(a, { sub: 'route-gone', role: 'device' });
    // node-b held the device for a moment and let go of it before its takeover arrived here.
    await presence.markOffline({ tenant: 'acme', deviceId: 'route-gone' }, 'node-a', Date.now());
    const takeover = { type: 'takeover', node: 'node-b', to: 'acme/route-gone' };
    await peer.send(inbox.node('node-a'), Buffer.from(JSON.stringify(takeover)));
    // A takeover this node acts on (one presence look-up) closes the socket with 4002 before
    // these round trips end: the second starts after the first came back.
    expect(await device.roundTrip()).toEqual([]);
    expect(await device.roundTrip()).toEqual([]);
    expect(device.ws.readyState).toBe(device.ws.OPEN);
  });

  it('owner moved between look-up and delivery: the node it left looks again and sends it on once; one ack', async () => {
    const { a, c, connect, peer, peerInbox } = cluster();
    const device = await connect(c, { sub: 'route-2', role: 'device' });
    const rerouted = await valueOf(a.metrics.commands, { outcome: 'rerouted' });
    // The peer's look-up was stale: it said node-a, which the device has left for node-c.
    await peer.send(inbox.node('node-a'), commandFor('route-2', 'm1'));
    expect(await device.next()).toEqual({ type: 'command', id: 'm1', from: 'ops', name: 'blink' });
    device.send({ type: 'ack', id: 'm1', result: 'on' });
    expect(await peerInbox()).toEqual({
      type: 'answer',
      device: 'acme/route-2',
      answer: { type: 'ack', id: 'm1', result: 'on' },
    });
    expect(await valueOf(a.metrics.commands, { outcome: 'rerouted' })).toBe(rerouted + 1);
    expect(a.server.stateSizes().pendingCommands).toBe(0);
    expect(c.server.stateSizes().pendingCommands).toBe(0);
  });

  it('a command sent on once already is never sent on again: offline', async () => {
    const { b, connect, peer, peerInbox } = cluster();
    const device = await connect(b, { sub: 'route-3', role: 'device' });
    await peer.send(inbox.node('node-a'), commandFor('route-3', 'm2', { hops: 1 }));
    expect(await peerInbox()).toEqual({
      type: 'answer',
      device: 'acme/route-3',
      answer: { type: 'nack', id: 'm2', reason: 'offline' },
    });
    expect(await device.roundTrip()).toEqual([]);
  });

  it('a command for a device nobody holds, sent to a node anyway, is answered offline', async () => {
    const { peer, peerInbox } = cluster();
    await peer.send(inbox.node('node-a'), commandFor('route-nobody', 'm3'));
    expect(await peerInbox()).toMatchObject({
      type: 'answer',
      answer: { type: 'nack', id: 'm3', reason: 'offline' },
    });
  });

  it('the node a record names died (not reaped yet): nack offline at once, never a timeout', async () => {
    const { b, connect, presence } = cluster();
    await presence.markOnline({ tenant: 'acme', deviceId: 'route-4' }, 'node-gone', Date.now());
    const dashboard = await connect(b, { sub: 'ops', role: 'dashboard' });
    dashboard.send({ type: 'command', id: 'd1', target: 'route-4', name: 'x', timeoutMs: 60_000 });
    expect(await dashboard.next()).toEqual({ type: 'nack', id: 'd1', reason: 'offline' });
    expect(b.server.stateSizes().pendingCommands).toBe(0);
  });
}

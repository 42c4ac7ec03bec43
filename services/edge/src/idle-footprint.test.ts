import { aclOf } from '@fleetwire/auth';
import { waitFor } from '@fleetwire/testkit';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

import type { Connection } from './core/connection.js';
import { TestClientPool, startTestEdge, type TestEdge } from './test-support.js';

/**
 * What an idle connection holds (see load-tests/peers/RESULTS.md for the bytes): shared where
 * connections are alike, created on first use where they are not. Structure only: never bytes
 * or time.
 */
let edge: TestEdge;
const clients = new TestClientPool();

beforeAll(async () => {
  edge = await startTestEdge();
});
afterEach(() => clients.terminateAll());
afterAll(() => edge.close());

function connectionOf(subject: string): Connection {
  const conn = edge.server.openConnections().find((c) => c.session.identity.subject === subject);
  if (!conn) throw new Error(`no connection of ${subject}`);
  return conn;
}

describe('an idle connection', () => {
  it('shares its ACL with every connection of the same role and claims', async () => {
    await clients.connect(edge, { sub: 'fp-1', role: 'device' });
    await clients.connect(edge, { sub: 'fp-2', role: 'device' });
    await clients.connect(edge, { sub: 'fp-ops', role: 'dashboard' });
    await clients.connect(edge, { sub: 'fp-ops-2', role: 'dashboard', acl: { sub: ['rooms/#'] } });
    await clients.connect(edge, { sub: 'fp-ops-3', role: 'dashboard', acl: { sub: ['rooms/#'] } });
    const acl = (subject: string) => aclOf(connectionOf(subject).session.identity);
    expect(acl('fp-1')).toBeDefined();
    expect(acl('fp-1')).toBe(acl('fp-2'));
    expect(acl('fp-ops')).not.toBe(acl('fp-1'));
    expect(acl('fp-ops-2')).toBe(acl('fp-ops-3'));
    expect(acl('fp-ops-2')).not.toBe(acl('fp-ops'));
    // Expanded for the subject when read, from the shared patterns.
    expect(connectionOf('fp-2').session.identity.publish).toEqual(['devices/fp-2/#']);
  });

  it('has no subscription set of its own until it subscribes, and none once it left them all', async () => {
    const a = await clients.connect(edge, { sub: 'fp-a', role: 'dashboard' });
    await clients.connect(edge, { sub: 'fp-b', role: 'dashboard' });
    const shared = connectionOf('fp-a').session.patterns;
    expect(shared.size).toBe(0);
    expect(connectionOf('fp-b').session.patterns).toBe(shared);

    a.send({ type: 'subscribe', id: 's1', topics: ['devices/+/telemetry'] });
    expect(await a.next()).toMatchObject({ type: 'ack', id: 's1' });
    expect(connectionOf('fp-a').session.patterns).not.toBe(shared);
    expect([...connectionOf('fp-a').session.patterns]).toEqual(['devices/+/telemetry']);
    expect(shared.size).toBe(0);

    a.send({ type: 'unsubscribe', id: 'u1', topics: ['devices/+/telemetry'] });
    expect(await a.next()).toMatchObject({ type: 'ack', id: 'u1' });
    expect(connectionOf('fp-a').session.patterns).toBe(shared);
  });

  it('has no rate bucket until its first message', async () => {
    const a = await clients.connect(edge, { sub: 'fp-rate', role: 'device' });
    expect(connectionOf('fp-rate').session.bucket).toBeUndefined();
    await a.roundTrip();
    expect(connectionOf('fp-rate').session.bucket).toBeDefined();
  });

  it('is in the node-wide token-expiry set rather than holding a timer, and leaves it on close', async () => {
    // The previous tests' clients were terminated: their closes may still be arriving.
    await waitFor('earlier clients gone', () => edge.server.connectionCount === 0);
    expect(edge.server.expiringConnections).toBe(0);
    const a = await clients.connect(edge, { sub: 'fp-exp-1', role: 'device' });
    await clients.connect(edge, { sub: 'fp-exp-2', role: 'dashboard' });
    expect(edge.server.expiringConnections).toBe(2);
    expect(Object.keys(connectionOf('fp-exp-1').session)).not.toContain('expiryTimer');
    await a.close();
    await waitFor('fp-exp-1 closed', () => edge.server.expiringConnections === 1);
  });

  it('a WebSocket connection keeps three fields; what all share is in one context', async () => {
    await clients.connect(edge, { sub: 'fp-ws-1', role: 'device' });
    await clients.connect(edge, { sub: 'fp-ws-2', role: 'device' });
    const [one, two] = [connectionOf('fp-ws-1'), connectionOf('fp-ws-2')];
    expect(Object.keys(one).sort()).toEqual(['ctx', 'session', 'ws']);
    const context = (conn: Connection) => (conn as unknown as { ctx: object }).ctx;
    expect(context(one)).toBe(context(two));
  });
});

import { MemoryBusHub } from '@fleetwire/bus';
import { createRegistry } from '@fleetwire/metrics';
import type { ServerMessage } from '@fleetwire/protocol';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';

import { EdgeMetrics } from '../metrics.js';
import { CommandRouter, type CommandReply, type CommandSender } from './commands.js';
import type { Connection } from './connection.js';
import { DependencyFailures } from './dependency-failures.js';
import { NodeMessageGate } from './node-message-gate.js';
import {
  decodeInboxMessage,
  encodeInboxMessage,
  inbox,
  remoteCommand,
  type InboxMessage,
} from './node-messages.js';

const TENANT = 'acme';
const logger = pino({ level: 'silent' });
let routers: CommandRouter[] = [];
afterEach(() => {
  for (const router of routers) router.close();
  routers = [];
});

function device(id: string): Connection {
  return {
    session: { identity: { tenant: TENANT, subject: id, role: 'device' } },
  } as unknown as Connection;
}

function sender(subject: string, replies: CommandReply[]): CommandSender {
  return { subject, tenant: TENANT, owner: {}, reply: (answer) => replies.push(answer) };
}

/**
 * A router on node `me` holding `others` devices besides `target`, each with `perDevice` commands
 * waited on here and `perDevice` forwarded for a sender on node `peer`, and the target with 2 of
 * each. Resolves once every forwarded command has been delivered.
 */
async function loaded(others: number, perDevice: number) {
  const hub = new MemoryBusHub();
  const bus = hub.connect('me');
  const peer = hub.connect('peer');
  const toPeer: InboxMessage[] = [];
  peer.onInboxMessage((_name, payload) => toPeer.push(decodeInboxMessage(payload)!));
  await peer.listen(inbox.node('peer'));
  const delivered: ServerMessage[] = [];
  const metrics = new EdgeMetrics(createRegistry({ service: 'edge', node: 'me' }));
  const router = new CommandRouter(
    (_conn, message) => delivered.push(message),
    metrics,
    60_000,
    new NodeMessageGate(metrics, logger),
    new DependencyFailures(logger),
    bus,
  );
  routers.push(router);
  await bus.sync();
  const replies: CommandReply[] = [];
  const dashboard = sender('ops', replies);
  const load = async (id: string, commands: number): Promise<Connection> => {
    const conn = device(id);
    router.attachDevice(conn);
    for (let n = 0; n < commands; n++) {
      router.dispatch(dashboard, { type: 'command', id: `here-${n}`, target: id, name: 'go' });
      const forwarded = remoteCommand(
        { type: 'command', id: `there-${n}`, from: 'ops', name: 'go' },
        'peer',
        60_000,
        `${TENANT}/${id}`,
      );
      await peer.send(inbox.node('me'), encodeInboxMessage(forwarded));
    }
    return conn;
  };
  for (let n = 0; n < others; n++) await load(`other-${n}`, perDevice);
  const target = await load('target', 2);
  await bus.sync();
  expect(router.pendingCount).toBe(2 * (others * perDevice + 2));
  return { router, target, replies, toPeer, peer, delivered };
}

describe('CommandRouter', () => {
  it('a disconnect looks at its own device’s commands only, however many other devices have commands pending', async () => {
    const visits: number[] = [];
    for (const others of [0, 300]) {
      const { router, target, replies, toPeer, peer } = await loaded(others, 3);
      const before = router.visitedCommands;
      expect(router.detachDevice(target)).toBe(true);
      router.senderClosed(target.session);
      visits.push(router.visitedCommands - before);
      // Its two commands waited on here and its two forwarded ones, each answered offline.
      expect(replies).toEqual([
        expect.objectContaining({ type: 'nack', id: 'here-0', reason: 'offline' }),
        expect.objectContaining({ type: 'nack', id: 'here-1', reason: 'offline' }),
      ]);
      await peer.sync();
      expect(toPeer.map((m) => m.type === 'answer' && [m.device, m.answer.id])).toEqual([
        [`${TENANT}/target`, 'there-0'],
        [`${TENANT}/target`, 'there-1'],
      ]);
      expect(router.pendingCount).toBe(2 * others * 3);
    }
    expect(visits).toEqual([4, 4]);
  });

  it('an answer without id and a sender’s close look at their own commands only', async () => {
    const visits: number[] = [];
    for (const others of [0, 300]) {
      const { router, target, toPeer, peer } = await loaded(others, 3);
      let before = router.visitedCommands;
      // The oldest command handed to the target: the first one waited on here.
      expect(router.answer(target, { type: 'ack' })).toBe(true);
      const answered = router.visitedCommands - before;
      // A sender with one command pending goes away: its wait is dropped, nobody else's.
      const replies: CommandReply[] = [];
      const leaving = sender('leaving', replies);
      router.dispatch(leaving, { type: 'command', id: 'bye', target: 'target', name: 'go' });
      before = router.visitedCommands;
      router.senderClosed(leaving.owner);
      visits.push(answered, router.visitedCommands - before);
      expect(router.pendingCount).toBe(2 * others * 3 + 3);
      expect(replies).toEqual([]);
      await peer.sync();
      expect(toPeer).toEqual([]);
    }
    expect(visits).toEqual([4, 1, 4, 1]);
  });
});

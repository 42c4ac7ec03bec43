import { MessageChannel, type MessagePort } from 'node:worker_threads';

import { PatternIndex } from '@fleetwire/protocol';

import { RefCounts, type Bus } from './bus.js';
import type { FromFabric, ToFabric } from './fabric-messages.js';
import type { Position } from './history.js';
import { InFlight } from './in-flight.js';

/** One FabricBus attached to the fabric: its port and what it holds. */
interface Member {
  readonly port: MessagePort;
  readonly patterns: PatternIndex;
  /**
   * Its patterns, each with the references taken at the driver for it: one per addPattern the
   * member sent, which is one, or more when a refused request was asked again (FabricBus).
   */
  readonly patternRefs: Map<string, number>;
  readonly inboxes: RefCounts;
  /** Its requests not answered yet: its close waits for them (they were made before it). */
  readonly inFlight: InFlight;
}

/**
 * Sent payloads the fabric expects back from its own bus, per inbox, at most this many: an echo
 * that never comes (its subscription lost with the connection) must not pile up.
 */
const MAX_ECHOES_PER_INBOX = 10_000;
/**
 * How long an expected echo is waited for. Echoes are not dropped when the driver reports
 * not-ready: RedisBus does so when only its publishing connection drops, while the subscriber
 * connection, and the echoes on it, live on; a send that failed may still have been run.
 */
const ECHO_WAIT_MS = 30_000;

interface Echo {
  payload: Buffer;
  at: number;
}

/**
 * The bus of one process with several workers (services/edge runs one uWS app per core, each in
 * a worker thread). Each worker is a node of its own with a FabricBus over a MessagePort; the
 * fabric, in the main thread, wraps the process's bus driver (Redis) and:
 *
 * - hands a publish to the sibling workers holding a matching pattern at once, in-process, and
 *   gives it to the driver once for the other processes (never back to a sibling);
 * - holds each pattern and inbox at the driver once per process, however many workers hold it,
 *   and dispatches what the driver delivers to the workers holding it;
 * - sends appends (history) through the driver only: their positions come from the broker, and
 *   every worker, the appender included, gets them back from it in position order, as a node does;
 * - delivers a send to the inbox's listeners among the workers in-process, and through the driver
 *   to the other processes. The driver hands a send back to the fabric when a worker of its own
 *   listens on the inbox: that copy is recognised by its bytes and dropped, so a listener gets a
 *   message once.
 *
 * Messages leave the fabric in the order they reached it, so a publisher's order holds.
 */
export class LocalFabric {
  private readonly members = new Set<Member>();
  /** Payloads sent to inboxes a worker of this process listens on, due back from the driver. */
  private readonly echoes = new Map<string, Echo[]>();
  private relayedLocally = 0;

  constructor(private readonly bus: Bus) {
    bus.onTopicMessage((topic, payload, position) => this.fromBus(topic, payload, position));
    bus.onInboxMessage((inbox, payload) => this.fromBusInbox(inbox, payload));
    bus.onStatus((ready) => {
      for (const member of this.members) post(member, { k: 'status', ready });
    });
  }

  /** The process's bus id (the driver's node id): how other processes see this one. */
  get nodeId(): string {
    return this.bus.nodeId;
  }

  /** Messages handed from one worker to a sibling without the driver, since the start. */
  get siblingDeliveries(): number {
    return this.relayedLocally;
  }

  /** A new member: the port to hand (transfer) to a FabricBus. */
  attach(): MessagePort {
    const { port1, port2 } = new MessageChannel();
    const member: Member = {
      port: port1,
      patterns: new PatternIndex(),
      patternRefs: new Map(),
      inboxes: new RefCounts(),
      inFlight: new InFlight(),
    };
    this.members.add(member);
    port1.on('message', (message: ToFabric) => this.handle(member, message));
    post(member, { k: 'status', ready: this.bus.ready });
    return port2;
  }

  /** Closes every member's port; the driver stays open (its owner closes it). */
  close(): void {
    for (const member of this.members) member.port.close();
    this.members.clear();
    this.echoes.clear();
  }

  private handle(member: Member, message: ToFabric): void {
    if (!this.members.has(member)) {
      // Sent after the member's close: it must not reach the driver (nobody would let go of it).
      post(member, {
        k: 'failed',
        id: message.id,
        code: 'BUS_CLOSED',
        message: 'this worker closed its bus',
      });
      return;
    }
    const answer = (work: Promise<unknown> | unknown): void => {
      void member.inFlight.track(Promise.resolve(work)).then(
        (value) => post(member, { k: 'done', id: message.id, value }),
        (error: unknown) => {
          const err = error as { code?: unknown; message?: unknown };
          post(member, {
            k: 'failed',
            id: message.id,
            code: typeof err.code === 'string' ? err.code : 'BUS_UNAVAILABLE',
            message: typeof err.message === 'string' ? err.message : String(error),
          });
        },
      );
    };
    switch (message.k) {
      case 'publish':
        for (const other of this.members) {
          if (other === member || other.patterns.match(message.topic).length === 0) continue;
          this.relayedLocally += 1;
          post(other, { k: 'topic', topic: message.topic, payload: message.payload });
        }
        answer(this.bus.publish(message.topic, message.payload));
        return;
      case 'append':
        answer(this.bus.append(message.batch));
        return;
      case 'read':
        answer(this.bus.readHistory(message.query));
        return;
      case 'sync':
        answer(this.bus.sync());
        return;
      case 'addPattern':
        answer(this.addPattern(member, message.pattern));
        return;
      case 'removePattern':
        answer(this.removePattern(member, message.pattern));
        return;
      case 'send':
        answer(this.send(message.inbox, message.payload));
        return;
      case 'listen':
        answer(member.inboxes.add(message.inbox) ? this.bus.listen(message.inbox) : 0);
        return;
      case 'unlisten':
        answer(member.inboxes.remove(message.inbox) ? this.bus.unlisten(message.inbox) : 0);
        return;
      case 'close':
        // What the member asked before its close is carried out and answered first.
        answer(member.inFlight.settled().then(() => this.detach(member)));
        return;
    }
  }

  private async send(inbox: string, payload: Uint8Array): Promise<number> {
    let local = 0;
    for (const member of this.members) {
      if (!member.inboxes.has(inbox)) continue;
      local += 1;
      this.relayedLocally += 1;
      post(member, { k: 'inbox', inbox, payload });
    }
    const echo: Echo | undefined =
      local > 0 ? { payload: Buffer.from(payload), at: Date.now() } : undefined;
    if (echo) this.expectEcho(inbox, echo);
    let count: number;
    try {
      count = await this.bus.send(inbox, payload);
    } catch (error) {
      // The echo stays expected (Redis may have run the send before the error): it expires.
      // The workers that listen have it: only the other processes were missed.
      if (local > 0) return local;
      throw error;
    }
    if (!echo) return count;
    // The driver counted this process's own subscription, whose copy comes back to be dropped.
    if (count === 0) this.forgetEcho(inbox, echo);
    return local + Math.max(0, count - 1);
  }

  /** A member's first take of a pattern, or its retry after a refusal: a driver reference each. */
  private addPattern(member: Member, pattern: string): Promise<void> {
    const refs = member.patternRefs.get(pattern);
    if (refs === undefined) member.patterns.add(pattern);
    member.patternRefs.set(pattern, (refs ?? 0) + 1);
    return this.bus.addPattern(pattern);
  }

  private async removePattern(member: Member, pattern: string): Promise<void> {
    const refs = member.patternRefs.get(pattern);
    if (refs === undefined) return;
    member.patternRefs.delete(pattern);
    member.patterns.remove(pattern);
    await Promise.all(this.releasePattern(pattern, refs));
  }

  private releasePattern(pattern: string, refs: number): Promise<void>[] {
    return Array.from({ length: refs }, () => this.bus.removePattern(pattern));
  }

  private async detach(member: Member): Promise<void> {
    this.members.delete(member);
    const releases: Promise<void>[] = [];
    for (const [pattern, refs] of member.patternRefs) {
      releases.push(...this.releasePattern(pattern, refs));
    }
    for (const inbox of member.inboxes.names()) releases.push(this.bus.unlisten(inbox));
    await Promise.allSettled(releases);
  }

  private fromBus(topic: string, payload: Buffer, position: Position | undefined): void {
    for (const member of this.members) {
      if (member.patterns.match(topic).length === 0) continue;
      post(
        member,
        position ? { k: 'topic', topic, payload, position } : { k: 'topic', topic, payload },
      );
    }
  }

  private fromBusInbox(inbox: string, payload: Buffer): void {
    const pending = this.pendingEchoes(inbox);
    const index = pending?.findIndex((sent) => sent.payload.equals(payload)) ?? -1;
    if (index >= 0) {
      this.forgetEcho(inbox, pending![index]!);
      return;
    }
    for (const member of this.members) {
      if (member.inboxes.has(inbox)) post(member, { k: 'inbox', inbox, payload });
    }
  }

  private expectEcho(inbox: string, echo: Echo): void {
    const pending = this.pendingEchoes(inbox) ?? [];
    pending.push(echo);
    if (pending.length > MAX_ECHOES_PER_INBOX) pending.shift();
    this.echoes.set(inbox, pending);
  }

  /** The echoes still awaited on an inbox, those waited for too long dropped (oldest first). */
  private pendingEchoes(inbox: string): Echo[] | undefined {
    const pending = this.echoes.get(inbox);
    if (!pending) return undefined;
    const oldest = Date.now() - ECHO_WAIT_MS;
    let expired = 0;
    while (expired < pending.length && pending[expired]!.at < oldest) expired += 1;
    if (expired > 0) pending.splice(0, expired);
    if (pending.length > 0) return pending;
    this.echoes.delete(inbox);
    return undefined;
  }

  private forgetEcho(inbox: string, echo: Echo): void {
    const pending = this.echoes.get(inbox);
    if (!pending) return;
    const index = pending.indexOf(echo);
    if (index >= 0) pending.splice(index, 1);
    if (pending.length === 0) this.echoes.delete(inbox);
  }
}

function post(member: Member, message: FromFabric): void {
  member.port.postMessage(message);
}

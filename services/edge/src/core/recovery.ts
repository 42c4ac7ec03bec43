import { compareOffsets, parseOffset, type Bus, type HistoryRead } from '@fleetwire/bus';
import type { DeliveryMessage, GapMessage, RecoveryFailure } from '@fleetwire/protocol';

import type { EdgeMetrics } from '../metrics.js';
import type { Connection } from './connection.js';
import type { DependencyFailures } from './dependency-failures.js';
import type { Fanout, Hold } from './fanout.js';
import type { HistoryPolicy } from './history-policy.js';
import type { NodeMessageGate } from './node-message-gate.js';
import { decodeTopicMessage } from './node-messages.js';
import { recoveredInOrder, splitPosition } from './recovery-seam.js';
import type { Outbound } from './outbound.js';

/**
 * `subscribe` with a position: the subscription is made but held (deliveries kept aside), the
 * history after the position is read, and the connection gets, in this order, a `recovery`
 * answer, the missed messages, the messages held meanwhile that history did not have (matched by
 * position, so nothing twice and nothing out of order at the seam), and then live delivery.
 * When history cannot say what was missed, the answer is `recovered: false` with the reason and
 * the time range to fetch from the read API, and live delivery starts at once.
 */
export class Recovery {
  /**
   * Per connection, the read under way: one at a time, each in a turn of the event loop of its
   * own (an in-memory bus answers within the turn), so a frame asking for many recoveries costs
   * one bounded read and decode per turn, and a connection that closed or a subscription dropped
   * meanwhile costs nothing more.
   */
  private readonly reading = new Map<Connection, Promise<void>>();

  constructor(
    private readonly fanout: Fanout,
    private readonly outbound: Outbound,
    private readonly metrics: EdgeMetrics,
    private readonly gate: NodeMessageGate,
    private readonly failures: DependencyFailures,
    /**
     * Payload bytes a recovery may send, less what the socket has waiting: more would cut it at
     * its backpressure limit.
     */
    private readonly maxBytes: number,
    private readonly bus?: Bus,
    private readonly policy?: HistoryPolicy,
  ) {}

  /** Connections with a recovery read waiting or under way (zero at rest). */
  get pending(): number {
    return this.reading.size;
  }

  async resume(conn: Connection, pattern: string, pos: string, id?: string): Promise<void> {
    const since = splitPosition(pos);
    const { bus, policy } = this;
    if (!bus || !policy || !since) {
      await this.fanout.subscribe(conn, pattern);
      this.fail(conn, pattern, id, 'history_disabled', since?.at.ms ?? 0, Date.now());
      return;
    }
    if (conn.session.patterns.has(pattern)) return;
    // Held at once (the subscription counts from now); read when the connection's turn comes,
    // in the order asked.
    const holding = this.fanout.hold(conn, pattern, policy.settings.maxRecover, this.maxBytes);
    const recover = (): Promise<void> =>
      holding.then(async (hold) => {
        await new Promise<void>((resolve) => setImmediate(resolve));
        return this.recover(bus, policy, hold, since, id);
      });
    const turn = (this.reading.get(conn) ?? Promise.resolve()).then(recover, recover);
    this.reading.set(conn, turn);
    try {
      await turn;
    } finally {
      if (this.reading.get(conn) === turn) this.reading.delete(conn);
    }
  }

  private async recover(
    bus: Bus,
    policy: HistoryPolicy,
    hold: Hold,
    since: NonNullable<ReturnType<typeof splitPosition>>,
    id: string | undefined,
  ): Promise<void> {
    const { conn, pattern } = hold;
    // Gone meanwhile (the connection, or the subscription): ending the hold is all there is to do.
    if (conn.session.closed || !this.fanout.holding(hold)) {
      this.fanout.join(hold);
      return;
    }
    // What the socket still has waiting (an earlier recovery of this frame) is spent already.
    const budget = this.maxBytes - conn.bufferedBytes();
    let read: HistoryRead | undefined;
    try {
      read =
        budget > 0
          ? await bus.readHistory({
              pattern: hold.key,
              after: { epoch: since.epoch, offset: since.offset },
              maxAgeMs: policy.maxAgeOf(pattern),
              maxMessages: policy.settings.maxRecover,
              maxBytes: budget,
              maxStreams: policy.settings.maxTopics,
            })
          : { ok: false, reason: 'too_many', head: since, now: Date.now() };
    } catch (error) {
      this.failures.failed('bus', 'history', error);
    }
    if (read?.ok) {
      // What was read may still be on its way here live: once the bus has caught up, it is all
      // among the held messages (and dropped there by position), none of it arrives after join.
      try {
        await bus.sync(conn.session.identity.tenant);
      } catch (error) {
        this.failures.failed('bus', 'history', error);
        read = undefined;
      }
    }
    if (conn.session.closed) {
      this.fanout.join(hold);
      return;
    }
    // From here to join() nothing waits: no delivery can slip between the held ones and live.
    const missed = read?.ok ? this.decode(read, hold.key, pattern) : undefined;
    if (!missed || hold.overflow) {
      const reason: RecoveryFailure = hold.overflow
        ? 'too_many'
        : read?.ok === false
          ? read.reason
          : 'unavailable';
      if (this.fanout.join(hold)) {
        this.fail(conn, pattern, id, reason, since.at.ms, read?.now ?? Date.now());
        for (const message of hold.messages) this.outbound.send(conn, message);
      }
      return;
    }
    // A position past the history's head (no client can have seen it) drops nothing held.
    const head =
      read?.ok && read.head.epoch === since.epoch ? parseOffset(read.head.offset) : undefined;
    const from = head && compareOffsets(since.at, head) > 0 ? { ms: 0, n: 0 } : since.at;
    const sent = recoveredInOrder(missed, hold.messages, since.epoch, from);
    if (!this.fanout.join(hold)) return;
    this.outbound.send(conn, {
      type: 'recovery',
      ...(id === undefined ? {} : { id }),
      topic: pattern,
      recovered: true,
      count: sent.length,
    });
    for (const message of sent) this.outbound.send(conn, message);
    this.metrics.recoveries.inc({ result: 'recovered' });
    this.metrics.recoveredMessages.inc(missed.length);
  }

  private decode(
    read: Extract<HistoryRead, { ok: true }>,
    key: string,
    pattern: string,
  ): (DeliveryMessage | GapMessage)[] {
    const out: (DeliveryMessage | GapMessage)[] = [];
    for (const entry of read.entries) {
      const message = this.gate.accept(() => decodeTopicMessage(entry.payload), key);
      if (!message) continue;
      const pos = `${entry.position.epoch}:${entry.position.offset}`;
      out.push({ ...message, pos, sub: pattern });
    }
    return out;
  }

  private fail(
    conn: Connection,
    pattern: string,
    id: string | undefined,
    reason: RecoveryFailure,
    from: number,
    to: number,
  ): void {
    this.metrics.recoveries.inc({ result: reason });
    this.outbound.send(conn, {
      type: 'recovery',
      ...(id === undefined ? {} : { id }),
      topic: pattern,
      recovered: false,
      reason,
      from,
      to,
    });
  }
}

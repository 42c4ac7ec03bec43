import type { Appended, HistoryQuery, HistoryRead, Position } from './history.js';

/**
 * The cross-node bus the edge needs, and nothing more. Two ways to reach other nodes:
 *
 * - topics: `publish(topic)` reaches every *other* node holding a pattern that matches, exactly
 *   once per node however many of its patterns match, in the publisher's order;
 * - inboxes: `send(inbox)` reaches whoever listens on that exact name (a device, a node) and
 *   says how many did, so "nobody is there" is known at once.
 *
 * Patterns are MQTT-style (`+`, `#`), reference-counted: a node holds a pattern at the broker
 * while at least one local subscriber needs it.
 */
export interface Bus {
  readonly nodeId: string;
  /** True while the broker connection is up and subscriptions are in place. */
  readonly ready: boolean;
  publish(topic: string, payload: Uint8Array): Promise<void>;
  /**
   * Appends each message to its topic's history and fans it out in one step, so a position and
   * its delivery can never disagree: every node holding a matching pattern, this one included,
   * receives the message with its position, in position order per domain. All messages of one
   * call belong to one domain (the first level of their topics); they are appended in order, all
   * or none. Resolves with their positions.
   */
  append(batch: readonly Appended[]): Promise<Position[]>;
  /** What was appended after a position on the topics of a pattern (see HistoryRead). */
  readHistory(query: HistoryQuery): Promise<HistoryRead>;
  /**
   * Resolves once every message fanned out before the call (by any node) has reached this node's
   * topic handlers. A reader of history uses it to know that live delivery has caught up with
   * what it read, so nothing read arrives live a second time after it joins. `domain`: only
   * that domain's messages need to have caught up (a Redis Cluster syncs one shard, not all).
   */
  sync(domain?: string): Promise<void>;
  addPattern(pattern: string): Promise<void>;
  removePattern(pattern: string): Promise<void>;
  send(inbox: string, payload: Uint8Array): Promise<number>;
  listen(inbox: string): Promise<void>;
  unlisten(inbox: string): Promise<void>;
  /** `position` is set for appended messages (see append), absent for published ones. */
  onTopicMessage(handler: TopicHandler): void;
  onInboxMessage(handler: (inbox: string, payload: Buffer) => void): void;
  /** Called with every change of `ready`. */
  onStatus(handler: (ready: boolean) => void): void;
  /** Patterns and inboxes held at the broker: zero once every local holder left. */
  holdings(): { patterns: number; inboxes: number };
  close(): Promise<void>;
}

export type TopicHandler = (topic: string, payload: Buffer, position?: Position) => void;

export class BusError extends Error {
  override readonly name = 'BusError';
  constructor(
    /**
     * BUS_INVALID_NAME: a topic or pattern a driver cannot route (Redis Cluster: no concrete
     * domain). BUS_INVALID_OPTIONS: a driver's options contradict each other.
     * BUS_INVALID_CURSOR: a page cursor the store did not make.
     */
    readonly code:
      | 'BUS_UNAVAILABLE'
      | 'BUS_CLOSED'
      | 'BUS_INVALID_NAME'
      | 'BUS_INVALID_OPTIONS'
      | 'BUS_INVALID_CURSOR',
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** Reference counts of held names; `add`/`remove` say when a name is first taken or last let go. */
export class RefCounts {
  private readonly counts = new Map<string, number>();

  add(name: string): boolean {
    const count = (this.counts.get(name) ?? 0) + 1;
    this.counts.set(name, count);
    return count === 1;
  }

  remove(name: string): boolean {
    const count = this.counts.get(name);
    if (count === undefined) return false;
    if (count > 1) {
      this.counts.set(name, count - 1);
      return false;
    }
    this.counts.delete(name);
    return true;
  }

  has(name: string): boolean {
    return this.counts.has(name);
  }

  get size(): number {
    return this.counts.size;
  }

  names(): string[] {
    return [...this.counts.keys()];
  }
}

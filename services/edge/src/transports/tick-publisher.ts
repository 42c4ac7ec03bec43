/** One publish to a uWS topic, held until the end of the event-loop tick. */
interface HeldPublish {
  topic: string;
  /** Held until the end of the tick: not to be reused by whoever encoded it (lanes encode afresh). */
  frame: string | Uint8Array;
  binary: boolean;
  /** Counted (deliveries, bytes) once published, against the subscribers it reached then. */
  transport: string;
}

export type PublishNow = (held: HeldPublish) => void;

/**
 * What a connection calls before a direct send (ack, command, stream chunk, close): publishes
 * held for the end of the tick go first, so a socket never gets a direct message ahead of a
 * delivery published before it (uWS itself drains a socket's topic queue before a send).
 */
export interface HeldPublishes {
  flush(): void;
}

/**
 * Holds the publishes of one event-loop tick and makes them at its end (setImmediate), outside
 * every uWS callback, in the order they came.
 *
 * Why: uWS corks the socket whose data it is handling, and only one socket can be corked at a
 * time. uWS 20.30 queues a topic's messages per subscriber and drains a subscriber inline once
 * it has 32 pending; a drain that runs while the publisher's socket holds the cork cannot cork
 * the subscriber, so each message becomes its own send() (1.66 M sendto for 2 M deliveries in
 * load-tests/peers). Published outside any callback, uWS corks each subscriber while draining
 * it: one send() per subscriber per 32 messages (66 k for the same 2 M), and the tail is drained
 * the same way by uWS's loop handler right after.
 *
 * Ordering holds: publishes keep their order, and a connection calls flush() (HeldPublishes)
 * before a direct send to a subscribed socket, after which uWS drains that socket's queue before
 * the send, as it always does. A connection that leaves a topic before the tick ends does not
 * get what was held for it, as if it had left a moment earlier.
 */
export class TickPublisher implements HeldPublishes {
  private held: HeldPublish[] = [];
  private scheduled = false;

  constructor(private readonly publishNow: PublishNow) {}

  get pending(): number {
    return this.held.length;
  }

  publish(held: HeldPublish): void {
    this.held.push(held);
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => this.flush());
  }

  /** Makes every held publish now (also what the end of the tick does). */
  flush(): void {
    if (this.held.length === 0) return;
    this.scheduled = false;
    const batch = this.held;
    this.held = [];
    for (const held of batch) this.publishNow(held);
  }
}

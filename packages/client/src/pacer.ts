/** The edge's message rate limit: a token bucket per connection (docs/protocol.md, "Limits"). */
export interface RateLimit {
  ratePerSec: number;
  rateBurst: number;
}

/**
 * What an edge allows when its `welcome` does not say: the edge's documented default
 * (`FLEETWIRE_RATE_PER_SEC` 50, `FLEETWIRE_RATE_BURST` 100).
 */
export const DEFAULT_RATE_LIMIT: RateLimit = { ratePerSec: 50, rateBurst: 100 };

/**
 * The share of the edge's limit the SDK uses. Below the rate, because frames sent evenly can
 * still arrive bunched (a busy network or edge event loop), and an edge that falls behind by more
 * than its saved-up burst refuses the surplus; half the burst, so the edge's bucket keeps room
 * for such bunching.
 */
export const RATE_SHARE = 0.8;
export const BURST_SHARE = 0.5;

export interface Paced {
  frame: Record<string, unknown>;
  /** Checked when its turn comes: false drops it unsent (an ack arrived for it meanwhile). */
  wanted?: () => boolean;
  /** Called once it is written. */
  sent?: () => void;
  /** Nothing else keeps this frame (fire-and-forget): counts towards the client's queue limit. */
  loose?: boolean;
}

/**
 * Writes frames no faster than the edge's message rate allows (a token bucket of the SDK's own,
 * the edge's limit times RATE_SHARE and BURST_SHARE): what goes over waits in order, so a backlog
 * resent after a reconnect arrives paced instead of tripping the edge's limit (an `error`
 * `rate_limited` per frame over it, a 1008 close after 20). Urgent frames (pings, command
 * answers) go before what waits.
 */
export class Pacer {
  private queue: Paced[] = [];
  private tokens = 0;
  private last = 0;
  private ratePerSec = 1;
  private burst = 1;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private looseCount = 0;
  /** How many frames at the head of the queue are urgent. */
  private urgentWaiting = 0;

  constructor(
    private readonly write: (frame: Record<string, unknown>) => void,
    private readonly now: () => number = () => Date.now(),
  ) {
    this.reset(DEFAULT_RATE_LIMIT);
  }

  /** Frames waiting that nothing else keeps (fire-and-forget). */
  get loose(): number {
    return this.looseCount;
  }

  get waiting(): number {
    return this.queue.length;
  }

  /** A new connection: the edge's bucket starts full, so this one does too, at `limit`. */
  reset(limit: RateLimit): void {
    this.ratePerSec = Math.max(0.001, limit.ratePerSec * RATE_SHARE);
    this.burst = Math.max(1, Math.floor(limit.rateBurst * BURST_SHARE));
    this.tokens = this.burst;
    this.last = this.now();
  }

  send(paced: Paced, urgent = false): void {
    if (paced.loose) this.looseCount += 1;
    if (urgent) {
      // After the urgent frames already waiting: answers and pings keep their order.
      this.queue.splice(this.urgentWaiting, 0, paced);
      this.urgentWaiting += 1;
    } else this.queue.push(paced);
    this.drain();
  }

  /** The connection is gone: everything waiting is handed back unsent. */
  clear(): Paced[] {
    clearTimeout(this.timer);
    this.timer = undefined;
    const left = this.queue;
    this.queue = [];
    this.looseCount = 0;
    this.urgentWaiting = 0;
    return left;
  }

  private shift(): void {
    this.queue.shift();
    if (this.urgentWaiting > 0) this.urgentWaiting -= 1;
  }

  private drain(): void {
    const now = this.now();
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) / 1000) * this.ratePerSec);
    this.last = now;
    while (this.queue.length > 0) {
      const next = this.queue[0]!;
      if (next.wanted && !next.wanted()) {
        this.shift();
        if (next.loose) this.looseCount -= 1;
        continue;
      }
      if (this.tokens < 1) break;
      this.shift();
      this.tokens -= 1;
      if (next.loose) this.looseCount -= 1;
      this.write(next.frame);
      next.sent?.();
    }
    if (this.queue.length > 0 && this.timer === undefined) {
      const waitMs = Math.ceil(((1 - this.tokens) / this.ratePerSec) * 1000);
      this.timer = setTimeout(
        () => {
          this.timer = undefined;
          this.drain();
        },
        Math.max(1, waitMs),
      );
    }
  }
}

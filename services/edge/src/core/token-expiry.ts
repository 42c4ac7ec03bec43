import { CloseCode, CloseReason } from '@fleetwire/protocol';

import type { Connection } from './connection.js';

/** Longest timer Node accepts; tokens expiring later are not tracked. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * Closes connections whose token expired, with one timer for the whole node instead of one per
 * connection (a Node timer and its closure cost ~250 B per idle socket). Tokens expire on whole
 * seconds, so connections are kept in one set per expiry instant; the timer is armed for the
 * earliest instant and fires exactly when a per-connection timer would have.
 */
export class TokenExpiry {
  /** Expiry instant (ms since the epoch) → the connections that expire then. */
  private readonly due = new Map<number, Set<Connection>>();
  /** The keys of `due`, earliest first. */
  private readonly instants: number[] = [];
  private timer: NodeJS.Timeout | undefined;
  private armedFor = Number.POSITIVE_INFINITY;

  constructor(private readonly now: () => number = () => Date.now()) {}

  /** Closes `conn` with 4001 at `at` (ms since the epoch), or at once when that has passed. */
  track(conn: Connection, at: number): void {
    if (at - this.now() >= MAX_TIMER_MS) return;
    let set = this.due.get(at);
    if (!set) {
      set = new Set();
      this.due.set(at, set);
      this.instants.splice(this.insertionPoint(at), 0, at);
    }
    set.add(conn);
    if (at < this.armedFor) this.arm(at);
  }

  /** The connection closed: it is forgotten (and the timer with it when it was the last). */
  forget(conn: Connection, at: number): void {
    const set = this.due.get(at);
    if (!set?.delete(conn) || set.size > 0) return;
    this.due.delete(at);
    this.instants.splice(this.insertionPoint(at), 1);
    if (this.instants.length === 0) this.disarm();
  }

  /** Connections waiting for their expiry (tests: nothing is left behind). */
  get size(): number {
    let n = 0;
    for (const set of this.due.values()) n += set.size;
    return n;
  }

  /** Stops the timer; the connections are left as they are (the node is stopping). */
  close(): void {
    this.disarm();
    this.due.clear();
    this.instants.length = 0;
  }

  private insertionPoint(at: number): number {
    let lo = 0;
    let hi = this.instants.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.instants[mid]! < at) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  private arm(at: number): void {
    clearTimeout(this.timer);
    this.armedFor = at;
    this.timer = setTimeout(() => this.fire(), Math.max(0, at - this.now()));
    // The node's lifetime is its listen socket's, not its token timers'.
    this.timer.unref();
  }

  private disarm(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.armedFor = Number.POSITIVE_INFINITY;
  }

  private fire(): void {
    this.timer = undefined;
    this.armedFor = Number.POSITIVE_INFINITY;
    const now = this.now();
    while (this.instants.length > 0 && this.instants[0]! <= now) {
      const at = this.instants.shift()!;
      const set = this.due.get(at)!;
      this.due.delete(at);
      // end() leads to forget() for each, which finds the set already gone.
      for (const conn of set) conn.end(CloseCode.TokenExpired, CloseReason.TokenExpired);
    }
    const next = this.instants[0];
    if (next !== undefined) this.arm(next);
  }
}

import { canSubscribe } from '@fleetwire/auth';
import { ErrorCode, ProtocolError, patternProblem } from '@fleetwire/protocol';

import type { AbuseGuard } from './abuse-guard.js';
import type { Connection } from './connection.js';
import type { Fanout } from './fanout.js';
import type { Outbound } from './outbound.js';
import type { Recovery } from './recovery.js';

/**
 * Subscribe and unsubscribe: every pattern is checked (syntax, the token's ACL, the per-connection
 * limit) before any is added; the ack goes out once the bus holds them cluster-wide.
 */
export class Subscriptions {
  constructor(
    private readonly fanout: Fanout,
    private readonly outbound: Outbound,
    private readonly guard: AbuseGuard,
    private readonly maxSubscriptions: number,
    private readonly recovery: Recovery,
  ) {}

  /** `since`: per pattern, the position to resume after (see Recovery). */
  subscribe(
    conn: Connection,
    patterns: string[],
    id: string | undefined,
    since: Record<string, string> = {},
  ): void {
    const { session } = conn;
    for (const pattern of patterns) {
      const problem = patternProblem(pattern);
      if (problem) {
        this.guard.refuse(
          conn,
          new ProtocolError(ErrorCode.BadTopic, `${pattern}: ${problem}`, id),
        );
        return;
      }
      if (!canSubscribe(session.identity, pattern)) {
        const refusal = new ProtocolError(
          ErrorCode.Forbidden,
          `may not subscribe to ${pattern}`,
          id,
        );
        this.guard.refuse(conn, refusal);
        return;
      }
    }
    const added = new Set(patterns.filter((p) => !session.patterns.has(p))).size;
    if (session.patterns.size + added > this.maxSubscriptions) {
      const refusal = new ProtocolError(
        ErrorCode.TooManySubscriptions,
        `at most ${this.maxSubscriptions} subscriptions per connection`,
        id,
      );
      this.guard.refuse(conn, refusal);
      return;
    }
    // Each recovery reads and sends up to half a socket's backpressure limit of history: beyond
    // the frame's own token, one more per pattern resumed (a frame may name 64).
    const resumed = patterns.filter(
      (p) => Object.hasOwn(since, p) && !session.patterns.has(p),
    ).length;
    if (resumed > 1 && !this.guard.admit(conn, performance.now(), resumed - 1, id)) return;
    const held = patterns.map((pattern) => {
      const pos = Object.hasOwn(since, pattern) ? since[pattern] : undefined;
      return pos === undefined
        ? this.fanout.subscribe(conn, pattern)
        : this.recovery.resume(conn, pattern, pos, id);
    });
    if (id) void Promise.all(held).then(() => this.outbound.send(conn, { type: 'ack', id }));
  }

  unsubscribe(conn: Connection, patterns: string[], id: string | undefined): void {
    for (const pattern of patterns) this.fanout.unsubscribe(conn, pattern);
    if (id) this.outbound.send(conn, { type: 'ack', id });
  }
}

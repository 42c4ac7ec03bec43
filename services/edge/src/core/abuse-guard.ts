import { CloseCode, CloseReason, ErrorCode, ProtocolError } from '@fleetwire/protocol';
import type { Logger } from 'pino';

import type { EdgeMetrics } from '../metrics.js';
import type { Connection } from './connection.js';
import type { Outbound } from './outbound.js';
import { sessionBucket } from './session.js';

const ABUSE_WINDOW_MS = 60_000;

export interface AbuseLimits {
  /** Rate-limit violations after which the connection is closed with 1008. */
  rateCloseAfter: number;
  /** Invalid messages after which the connection is closed with 1008. */
  maxProtocolErrors: number;
}

/**
 * The per-connection message rate and the count of refused messages. Both are counted per
 * minute, so occasional mistakes never add up to a close; repeated ones close with 1008.
 */
export class AbuseGuard {
  constructor(
    private readonly limits: AbuseLimits,
    private readonly outbound: Outbound,
    private readonly metrics: EdgeMetrics,
    private readonly logger: Logger,
  ) {}

  /**
   * Takes `cost` tokens (one message, or work worth several) from the connection's budget;
   * false (and answered) when over it.
   */
  admit(conn: Connection, now: number, cost = 1, ref?: string): boolean {
    const { session } = conn;
    if (now - session.abuseWindowStart > ABUSE_WINDOW_MS) {
      session.abuseWindowStart = now;
      session.rateViolations = 0;
      session.protocolErrors = 0;
    }
    if (sessionBucket(session).take(cost)) return true;
    session.rateViolations += 1;
    this.metrics.rateLimited.inc();
    this.metrics.messagesInOf.get('rate_limited', conn.transport).inc();
    if (session.rateViolations >= this.limits.rateCloseAfter) {
      this.logger.warn(
        { session: session.id, sub: session.identity.subject },
        'rate limit: closing',
      );
      conn.end(CloseCode.PolicyViolation, CloseReason.RateLimitExceeded);
      return false;
    }
    this.refuse(
      conn,
      new ProtocolError(ErrorCode.RateLimited, 'message rate over the limit; dropped', ref),
      false,
    );
    return false;
  }

  /**
   * Answers a refused message with `error`. Invalid messages count towards closing the
   * connection (1008); rate-limit refusals have their own count.
   */
  refuse(conn: Connection, error: ProtocolError, countsAsAbuse = true): void {
    const { session } = conn;
    this.metrics.protocolErrors.inc({ code: error.code });
    this.outbound.send(conn, {
      type: 'error',
      code: error.code,
      message: error.message,
      ...(error.ref === undefined ? {} : { ref: error.ref }),
    });
    if (!countsAsAbuse) return;
    session.protocolErrors += 1;
    if (session.protocolErrors >= this.limits.maxProtocolErrors && !session.closed) {
      this.logger.warn(
        { session: session.id, sub: session.identity.subject },
        'too many invalid messages: closing',
      );
      conn.end(CloseCode.PolicyViolation, CloseReason.TooManyErrors);
    }
  }
}

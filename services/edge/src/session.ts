import type { Identity } from '@fleetwire/auth';
import type { ServerMessage, WireFormat } from '@fleetwire/protocol';
import type { WebSocket } from 'uWebSockets.js';

import type { TokenBucket } from './rate-limiter.js';

/** What the edge knows about one connection: uWS's user data for its socket. */
export interface Session {
  id: number;
  identity: Identity;
  /** Encoding of everything the server sends on this connection. */
  format: WireFormat;
  remote: string;
  bucket: TokenBucket;
  /** Rate-limit violations and invalid messages in the current abuse window (one minute). */
  rateViolations: number;
  protocolErrors: number;
  abuseWindowStart: number;
  /** Tenant-relative patterns this connection is subscribed to. */
  patterns: Set<string>;
  /** Set by the close handler: a closed uWS socket must not be touched again. */
  closed: boolean;
  /**
   * Replies written before `welcome` went out (a device's welcome waits for its registration);
   * sent right after it, so `welcome` is always the first message.
   */
  beforeWelcome?: ServerMessage[] | undefined;
  expiryTimer?: NodeJS.Timeout | undefined;
}

export type EdgeSocket = WebSocket<Session>;

/** `tenant/subject`: how a device is addressed on this node. */
export function deviceKey(tenant: string, subject: string): string {
  return `${tenant}/${subject}`;
}

/**
 * Closes with a code and reason. Corked, because a close frame written outside a uWS callback
 * (timers, bus messages) otherwise waits in uWS's buffer for the next event on the loop.
 */
export function endSocket(ws: EdgeSocket, code: number, reason: string): void {
  if (ws.getUserData().closed) return;
  ws.cork(() => ws.end(code, reason));
}

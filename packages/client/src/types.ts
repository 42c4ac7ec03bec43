import type {
  DeliveryMessage,
  DetachedMessage,
  ErrorMessage,
  ServerCommandMessage,
  StateMessage,
  WelcomeMessage,
} from '@fleetwire/protocol';

import type { BackoffOptions } from './backoff.js';
import type { RateLimit } from './pacer.js';

/** The subset of the WebSocket API the client uses: the browser's, or the `ws` package's. */
export interface WebSocketLike {
  readonly readyState: number;
  /** Bytes queued and not yet sent (browsers and `ws` both have it). */
  readonly bufferedAmount?: number;
  binaryType: string;
  send(data: string | Uint8Array): void;
  close(code?: number, reason?: string): void;
  onopen: ((event: unknown) => void) | null;
  onmessage: ((event: { data: unknown }) => void) | null;
  onclose: ((event: { code: number; reason: string }) => void) | null;
  onerror: ((event: unknown) => void) | null;
}
export type WebSocketConstructor = new (
  url: string,
  protocols?: string | string[],
) => WebSocketLike;

export type ConnectionState = 'connecting' | 'connected' | 'disconnected' | 'closed';

export interface FleetwireClientOptions {
  /** `ws(s)://host:port/ws` */
  url: string;
  /** A token, or a function asked for one before every connection attempt (refresh). */
  token: string | (() => string | Promise<string>);
  /** Defaults to globalThis.WebSocket (browsers, Node ≥ 22); on Node 20 pass the `ws` package. */
  WebSocket?: WebSocketConstructor;
  format?: 'json' | 'msgpack';
  backoff?: Partial<BackoffOptions>;
  /** Messages kept while offline (fire-and-forget ones and ones waiting for an ack). */
  queueLimit?: number;
  /** A message with an id not acked within this time is sent again. */
  ackTimeoutMs?: number;
  /** Application-level ping interval; no pong within it means the connection is dead. */
  heartbeatMs?: number;
  /**
   * The edge's message rate limit, for an edge whose `welcome` does not announce it (older
   * versions); default 50/s with a burst of 100, the edge's default. The SDK sends at most 80 %
   * of the rate, with half the burst (see pacer.ts).
   */
  rateLimit?: RateLimit;
  random?: () => number;
}

export interface ClientEvents extends Record<string, unknown> {
  state: ConnectionState;
  welcome: WelcomeMessage;
  message: DeliveryMessage;
  command: ServerCommandMessage;
  /** An `error` the server answered one of our messages with. */
  serverError: ErrorMessage;
  close: { code: number; reason: string };
  /** A resumed subscription got everything it missed: `count` messages, delivered as `message`. */
  recovered: { topic: string; count: number };
  /**
   * Messages on `topic` (a topic or a subscription's pattern) between `from` and `to` (ms since
   * the epoch) may be missing: the server said so (`reason` bus_unavailable, outbox_full) or a
   * resumed subscription could not be recovered (expired, epoch_changed, too_many, …). Fetch
   * the range from the read API.
   */
  gap: { topic: string; from: number; to: number; reason: string };
  /** A binary stream chunk for a subscription (see `openStream` for the sending side). */
  chunk: { topic: string; seq: number; payload: Uint8Array };
  /** To a gateway: a sub-device connected elsewhere and is no longer this connection's. */
  detached: DetachedMessage;
  /** A desired-state change for this device (see `onDesired`). */
  desired: StateMessage;
}

export type CommandHandler = (command: ServerCommandMessage) => unknown | Promise<unknown>;

/** A device's handler of desired-state changes: `delta` is what it has not reported yet. */
export type DesiredHandler = (
  desired: Record<string, unknown>,
  delta: Record<string, unknown>,
  version: number,
) => unknown | Promise<unknown>;

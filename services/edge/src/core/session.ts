import type { AttachWait } from './attach-queue.js';
import type { Identity } from '@fleetwire/auth';
import type { ServerMessage, WireFormat } from '@fleetwire/protocol';

import { TokenBucket } from './rate-limiter.js';

/** What the edge knows about one connection, whatever transport carries it. */
export interface Session {
  id: number;
  identity: Identity;
  /** Encoding of everything the server sends, when the transport has a choice (WebSocket). */
  format?: WireFormat;
  remote: string;
  /** The message rate budget: created on the first message (an idle socket has none). */
  bucket?: TokenBucket | undefined;
  /** Shared by every session of the node: what `bucket` starts with. */
  limits: SessionLimits;
  /** Rate-limit violations and invalid messages in the current abuse window (one minute). */
  rateViolations: number;
  protocolErrors: number;
  abuseWindowStart: number;
  /**
   * Tenant-relative patterns this connection is subscribed to: one shared empty set until the
   * first subscription (addPattern / deletePattern).
   */
  patterns: ReadonlySet<string>;
  /** Set once the connection closed: it must not be written to again. */
  closed: boolean;
  /**
   * Replies written before `welcome` went out (a device's welcome waits for its registration);
   * sent right after it, so `welcome` is always the first message.
   */
  beforeWelcome?: ServerMessage[] | undefined;
  /**
   * Frames a device sent before its `welcome`, handled right after it (its admission is not
   * decided yet: a device refused at its tenant's limit must not have its messages taken).
   */
  earlyFrames?: EarlyFrames | undefined;
  /** A gateway's frames waiting for a sub-device's attach to be answered (core/attach-queue.ts). */
  attachWait?: AttachWait | undefined;
  /** A gateway's attached sub-devices (core/sub-devices.ts). */
  subDevices?: Set<string>;
  /** Binary streams this connection opened, by channel (core/streams.ts). */
  streams?: Map<number, OpenStream>;
  /** Stream bytes each speaking device may still send (per-device byte rate). */
  streamBudgets?: Map<string, TokenBucket>;
  /** Stream chunks dropped over a byte budget, for their share of the message rate. */
  droppedChunks?: number;
  /** The device state version this device was sent last (DeviceStates): never sent twice. */
  stateVersion?: number;
}

/** What a connection sent before its `welcome`, in order, and their bytes. */
export interface EarlyFrames {
  handlers: (() => void)[];
  bytes: number;
}

/** A stream a device opened: where its chunks go and how many went. */
export interface OpenStream {
  topic: string;
  /** The device whose stream it is (a gateway's sub-device, or the sender). */
  device: string;
  /** The relay header for `topic`, built once (packages/protocol stream-frame.ts). */
  header: Uint8Array;
  /** The next chunk's sequence number. */
  seq: number;
  /** Set while chunks are dropped for the byte rate: the device is told once per episode. */
  throttled: boolean;
}

export interface SessionLimits {
  ratePerSec: number;
  rateBurst: number;
}

/** The patterns of every session that never subscribed (or left every subscription). */
const NO_PATTERNS: ReadonlySet<string> = new Set<string>();

export function createSession(
  fields: { id: number; identity: Identity; remote: string; format?: WireFormat },
  limits: SessionLimits,
): Session {
  // One shape for every session (fixed fields, in one order): optional ones start undefined.
  return {
    id: fields.id,
    identity: fields.identity,
    format: fields.format,
    remote: fields.remote,
    bucket: undefined,
    limits,
    rateViolations: 0,
    protocolErrors: 0,
    abuseWindowStart: performance.now(),
    beforeWelcome: [],
    patterns: NO_PATTERNS,
    closed: false,
  };
}

/** The session's message budget, created full on first use (as it would be had it waited). */
export function sessionBucket(session: Session): TokenBucket {
  session.bucket ??= new TokenBucket(session.limits.ratePerSec, session.limits.rateBurst);
  return session.bucket;
}

/** Adds a pattern; false when the session had it already. */
export function addPattern(session: Session, pattern: string): boolean {
  if (session.patterns.has(pattern)) return false;
  if (session.patterns === NO_PATTERNS) session.patterns = new Set([pattern]);
  else (session.patterns as Set<string>).add(pattern);
  return true;
}

/** Removes a pattern; false when the session did not have it. The last one frees the set. */
export function deletePattern(session: Session, pattern: string): boolean {
  if (!session.patterns.has(pattern)) return false;
  if (session.patterns.size === 1) session.patterns = NO_PATTERNS;
  else (session.patterns as Set<string>).delete(pattern);
  return true;
}

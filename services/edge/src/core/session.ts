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
  bucket: TokenBucket;
  /** Rate-limit violations and invalid messages in the current abuse window (one minute). */
  rateViolations: number;
  protocolErrors: number;
  abuseWindowStart: number;
  /** Tenant-relative patterns this connection is subscribed to. */
  patterns: Set<string>;
  /** Set once the connection closed: it must not be written to again. */
  closed: boolean;
  /**
   * Replies written before `welcome` went out (a device's welcome waits for its registration);
   * sent right after it, so `welcome` is always the first message.
   */
  beforeWelcome?: ServerMessage[] | undefined;
  expiryTimer?: NodeJS.Timeout | undefined;
  /** A gateway's attached sub-devices (core/sub-devices.ts). */
  subDevices?: Set<string>;
  /** Binary streams this connection opened, by channel (core/streams.ts). */
  streams?: Map<number, OpenStream>;
  /** Stream bytes each speaking device may still send (per-device byte rate). */
  streamBudgets?: Map<string, TokenBucket>;
  /** The device state version this device was sent last (DeviceStates): never sent twice. */
  stateVersion?: number;
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

export function createSession(
  fields: { id: number; identity: Identity; remote: string; format?: WireFormat },
  limits: SessionLimits,
): Session {
  return {
    ...fields,
    bucket: new TokenBucket(limits.ratePerSec, limits.rateBurst),
    rateViolations: 0,
    protocolErrors: 0,
    abuseWindowStart: performance.now(),
    beforeWelcome: [],
    patterns: new Set(),
    closed: false,
  };
}

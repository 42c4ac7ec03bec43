import type { EdgeLimits } from '../config.js';
import type { Uws } from '../uws.js';

/**
 * The uWS socket behaviour every WebSocket-based transport shares (`/ws`, `/mqtt`): frame cap,
 * idle pings, backpressure policy, compression.
 */
export function socketOptions(limits: EdgeLimits, uws: Uws) {
  return {
    // uWS cuts a frame over its own limit without a close frame (1006); reading frames up to
    // oversizeCloseBytes lets the edge refuse an oversize frame with a proper 1009 instead.
    maxPayloadLength: limits.oversizeCloseBytes,
    idleTimeout: limits.idleTimeoutSec,
    sendPingsAutomatically: true,
    maxBackpressure: limits.maxBackpressureBytes,
    closeOnBackpressureLimit: limits.backpressurePolicy === 'close' ? 1 : 0,
    compression: limits.compression ? uws.SHARED_COMPRESSOR : uws.DISABLED,
  };
}

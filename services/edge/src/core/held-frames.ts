import { CloseCode } from '@fleetwire/protocol';
import type { Logger } from 'pino';

import type { EdgeMetrics } from '../metrics.js';
import type { Connection } from './connection.js';

/**
 * Frames a connection may have waiting, before its `welcome` or behind a sub-device's unanswered
 * `attach`: its rate burst (a device flushing what it kept offline as soon as it connects, or a
 * gateway announcing its devices and their first readings without waiting for acks, sends about
 * that much), at least 32; and bytes.
 */
const MIN_HELD_FRAMES = 32;
const MAX_HELD_BYTES = 256 * 1024;

/**
 * Whether `frames` frames already waiting plus one more, `bytes` in all, are over the bounds; if
 * so the connection is closed with 1008 `reason` and the frame counted as invalid.
 */
export function closedOverHeldBounds(
  conn: Connection,
  metrics: EdgeMetrics,
  frames: number,
  bytes: number,
  reason: string,
): boolean {
  const maxFrames = Math.max(MIN_HELD_FRAMES, conn.session.limits.rateBurst);
  if (frames < maxFrames && bytes <= MAX_HELD_BYTES) return false;
  metrics.messagesInOf.get('invalid', conn.transport).inc();
  conn.end(CloseCode.PolicyViolation, reason);
  return true;
}

/**
 * Handles a frame that waited, outside the transport's callback: nothing else would catch what
 * it throws, so a throw ends this connection only (1011), logged.
 */
export function handleHeldFrame(conn: Connection, logger: Logger, handle: () => void): void {
  try {
    handle();
  } catch (error) {
    logger.error({ err: error, session: conn.session.id }, 'a held frame failed');
    conn.end(CloseCode.InternalError, 'internal error');
  }
}

import { CloseReason, type ClientMessage } from '@fleetwire/protocol';
import type { Logger } from 'pino';

import type { EdgeMetrics } from '../metrics.js';
import type { Connection } from './connection.js';
import type { Dispatcher } from './dispatcher.js';
import { closedOverHeldBounds, handleHeldFrame } from './held-frames.js';
import type { StreamRelay } from './streams.js';

/** What a queued frame costs against the held bytes beyond its size: its decoded copy. */
const QUEUED_FRAME_OVERHEAD = 128;

/**
 * A frame waiting its turn. `speaker`: the device whose data it is (a message's `device`, a
 * chunk's or a stream end's the device whose stream the channel carries), dropped with it when
 * that device's attach is refused.
 */
export type QueuedFrame = { speaker: string | undefined; bytes: number } & (
  | { message: ClientMessage; received: number; chunk?: undefined }
  | { chunk: Uint8Array; message?: undefined; received?: undefined }
);

/** What a connection keeps back, in the order it came. */
export interface AttachWait {
  frames: QueuedFrame[];
  bytes: number;
  /** Per channel, whose stream the last queued `stream_open` on it opened. */
  channels: Map<number, string>;
}

/** The sub-device a message speaks for (`device`), if it is one that does. */
function speakerOf(message: ClientMessage): string | undefined {
  switch (message.type) {
    case 'telemetry':
    case 'event':
    case 'status':
    case 'ack':
    case 'nack':
    case 'stream_open':
      return message.device;
    default:
      return undefined;
  }
}

/**
 * A gateway's messages for a sub-device whose attach is not answered yet (the presence store
 * admits or refuses it: a device new to a tenant at its limit of devices) wait for the answer,
 * and what the connection sends after them waits behind them, in order. An `attach` of a device
 * nothing waits for goes on at once, so a gateway announcing many devices does not wait for
 * them one after another. Admitted, the frames are handled; refused, those carrying the device's
 * data are dropped unread (a refused device has nothing taken), the rest handled in their turn.
 * A gateway that waits for its `attach` to be acked sends none.
 */
export class AttachQueue {
  constructor(
    /** Whether the connection's attach of the device is still unanswered. */
    private readonly pending: (conn: Connection, device: string) => boolean,
    private readonly dispatcher: Dispatcher,
    private readonly streams: StreamRelay,
    private readonly metrics: EdgeMetrics,
    private readonly logger: Logger,
  ) {}

  /** True when the message waits (see the class). `bytes`: its frame's size. */
  message(conn: Connection, message: ClientMessage, received: number, bytes: number): boolean {
    const wait = conn.session.attachWait;
    const speaker = speakerOf(message);
    if (wait === undefined) {
      if (speaker === undefined || !this.pending(conn, speaker)) return false;
    } else if (message.type === 'attach' && !wait.frames.some((f) => waitsFor(f, message.device))) {
      return false;
    }
    const owner = message.type === 'stream_close' ? wait?.channels.get(message.channel) : speaker;
    const kept = this.keep(conn, { speaker: owner, bytes, message, received });
    if (kept && message.type === 'stream_open') {
      kept.channels.set(message.channel, speaker ?? conn.session.identity.subject);
    }
    return true;
  }

  /** True when the stream chunk (valid only during the call) waits behind queued frames. */
  chunk(conn: Connection, frame: Uint8Array): boolean {
    const wait = conn.session.attachWait;
    if (wait === undefined) return false;
    const speaker = wait.channels.get(frame[1] ?? 0);
    this.keep(conn, { speaker, bytes: frame.byteLength, chunk: frame.slice() });
    return true;
  }

  /** An attach of the connection was answered (`refused`: and this attach is current). */
  answered(conn: Connection, device: string, refused: boolean): void {
    const wait = conn.session.attachWait;
    if (!wait) return;
    if (refused) {
      // Its data up to an attach of it queued after, which is another one.
      const again = wait.frames.findIndex(
        (f) => f.message?.type === 'attach' && f.message.device === device,
      );
      const end = again === -1 ? wait.frames.length : again;
      wait.frames = wait.frames.filter((f, i) => {
        const dropped = i < end && f.speaker === device && f.message?.type !== 'detach';
        if (dropped) wait.bytes -= f.bytes;
        return !dropped;
      });
    }
    while (wait.frames.length > 0 && !conn.session.closed) {
      const next = wait.frames[0] as QueuedFrame;
      const speaker = next.message ? speakerOf(next.message) : undefined;
      if (speaker !== undefined && this.pending(conn, speaker)) return;
      wait.frames.shift();
      wait.bytes -= next.bytes;
      handleHeldFrame(conn, this.logger, () => {
        if (next.message) this.dispatcher.dispatch(conn, next.message, next.received);
        else if (next.chunk) this.streams.chunk(conn, next.chunk);
      });
      // Closed, or given up, meanwhile: nothing more to do.
      if (conn.session.attachWait !== wait) return;
    }
    if (conn.session.attachWait === wait && wait.frames.length === 0) {
      conn.session.attachWait = undefined;
    }
  }

  private keep(conn: Connection, frame: QueuedFrame): AttachWait | undefined {
    const { session } = conn;
    const wait: AttachWait = (session.attachWait ??= { frames: [], bytes: 0, channels: new Map() });
    frame.bytes += QUEUED_FRAME_OVERHEAD;
    wait.bytes += frame.bytes;
    const reason = CloseReason.TooEarlyForAttach;
    if (closedOverHeldBounds(conn, this.metrics, wait.frames.length, wait.bytes, reason)) {
      session.attachWait = undefined;
      return undefined;
    }
    wait.frames.push(frame);
    return wait;
  }
}

/** Whether a queued frame concerns the device (its data, or an attach or detach of it). */
function waitsFor(frame: QueuedFrame, device: string): boolean {
  if (frame.speaker === device) return true;
  const { message } = frame;
  return (message?.type === 'attach' || message?.type === 'detach') && message.device === device;
}

import { CloseCode, CloseReason, type ClientMessage } from '@fleetwire/protocol';

import type { EdgeMetrics } from '../metrics.js';
import type { Connection } from './connection.js';
import type { Dispatcher } from './dispatcher.js';
import type { StreamRelay } from './streams.js';

/** Frames a gateway may send while an attach is unanswered (as before a `welcome`), and bytes. */
const MAX_QUEUED = 32;
const MAX_QUEUED_BYTES = 128 * 1024;
/** What a queued message costs against the bytes (its size is not known once decoded). */
const QUEUED_MESSAGE_BYTES = 256;

/** A frame a gateway sent while one of its attaches was unanswered, in the order it came. */
export type QueuedFrame =
  | { message: ClientMessage; received: number; chunk?: undefined }
  | { chunk: Uint8Array; message?: undefined; received?: undefined };

/** The frames a connection keeps back, and what they count against the bounds. */
export interface AttachWait {
  frames: QueuedFrame[];
  bytes: number;
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
 * and so does everything the connection sends after them, to keep their order. Admitted, they are
 * handled; refused, those for that device are dropped unread: a refused device has nothing taken.
 * A gateway that waits for its `attach` to be acked sends none.
 */
export class AttachQueue {
  constructor(
    /** Whether the connection's attach of the device is still unanswered. */
    private readonly pending: (conn: Connection, device: string) => boolean,
    private readonly dispatcher: Dispatcher,
    private readonly streams: StreamRelay,
    private readonly metrics: EdgeMetrics,
  ) {}

  /** True when the message waits (its device's attach is unanswered, or frames wait before it). */
  message(conn: Connection, message: ClientMessage, received: number): boolean {
    const { session } = conn;
    if (session.attachWait === undefined) {
      const speaker = speakerOf(message);
      if (speaker === undefined || !this.pending(conn, speaker)) return false;
    }
    this.keep(conn, { message, received }, QUEUED_MESSAGE_BYTES);
    return true;
  }

  /** True when the stream chunk (valid only during the call) waits behind queued frames. */
  chunk(conn: Connection, frame: Uint8Array): boolean {
    if (conn.session.attachWait === undefined) return false;
    this.keep(conn, { chunk: frame.slice() }, frame.byteLength);
    return true;
  }

  /** An attach of the connection was answered: what waited for it goes on. */
  answered(conn: Connection, device: string, admitted: boolean): void {
    const wait = conn.session.attachWait;
    if (!wait) return;
    if (!admitted) {
      // Up to an attach of the same device queued after them, which is another one.
      const again = wait.frames.findIndex(
        (f) => f.message?.type === 'attach' && f.message.device === device,
      );
      const end = again === -1 ? wait.frames.length : again;
      wait.frames = wait.frames.filter(
        (f, i) => i >= end || f.message === undefined || speakerOf(f.message) !== device,
      );
    }
    while (wait.frames.length > 0 && !conn.session.closed) {
      const next = wait.frames[0] as QueuedFrame;
      const speaker = next.message ? speakerOf(next.message) : undefined;
      if (speaker !== undefined && this.pending(conn, speaker)) return;
      wait.frames.shift();
      if (next.message) this.dispatcher.dispatch(conn, next.message, next.received);
      else if (next.chunk) this.streams.chunk(conn, next.chunk);
      // Given up meanwhile (the connection closed): nothing more to do.
      if (conn.session.attachWait !== wait) return;
    }
    if (conn.session.attachWait === wait) conn.session.attachWait = undefined;
  }

  private keep(conn: Connection, frame: QueuedFrame, bytes: number): void {
    const { session } = conn;
    const wait = (session.attachWait ??= { frames: [], bytes: 0 });
    wait.bytes += bytes;
    if (wait.frames.length >= MAX_QUEUED || wait.bytes > MAX_QUEUED_BYTES) {
      session.attachWait = undefined;
      this.metrics.messagesInOf.get('invalid', conn.transport).inc();
      conn.end(CloseCode.PolicyViolation, CloseReason.TooEarlyForAttach);
      return;
    }
    wait.frames.push(frame);
  }
}

import { CloseCode, CloseReason, type ClientMessage } from '@fleetwire/protocol';

import type { EdgeMetrics } from '../metrics.js';
import type { Connection } from './connection.js';
import type { Dispatcher } from './dispatcher.js';
import type { StreamRelay } from './streams.js';

/**
 * Frames a gateway may have waiting: its rate burst (a gateway announcing its devices at once
 * and their first readings, without waiting for acks, sends about that much), at least 32; and
 * bytes, each frame counted as received plus its decoded copy's overhead.
 */
const MIN_QUEUED = 32;
const MAX_QUEUED_BYTES = 256 * 1024;
const QUEUED_FRAME_OVERHEAD = 128;

/** A frame waiting for the attach of `device`, in the order it came. */
export type QueuedFrame = { device: string } & (
  | { message: ClientMessage; received: number; chunk?: undefined }
  | { chunk: Uint8Array; message?: undefined; received?: undefined }
);

/** What a connection keeps back: the frames, per device how many, the channels opened by them. */
export interface AttachWait {
  frames: QueuedFrame[];
  bytes: number;
  perDevice: Map<string, number>;
  /** Stream channels whose `stream_open` waits, and for which device. */
  channels: Map<number, string>;
}

/** The sub-device a message speaks for or names (`device`), if it is one that does. */
function deviceOf(message: ClientMessage): string | undefined {
  switch (message.type) {
    case 'telemetry':
    case 'event':
    case 'status':
    case 'ack':
    case 'nack':
    case 'stream_open':
    case 'attach':
    case 'detach':
      return message.device;
    default:
      return undefined;
  }
}

/**
 * A gateway's messages for a sub-device whose attach is not answered yet (the presence store
 * admits or refuses it: a device new to a tenant at its limit of devices) wait for the answer,
 * with what the gateway sends for that device after them (its messages, attach and detach, the
 * chunks and end of a stream it opens), so their order is kept; the gateway's other frames go on.
 * Admitted, they are handled; refused, they are dropped unread: a refused device has nothing taken.
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

  /** True when the message waits (see the class). `bytes`: its frame's size. */
  message(conn: Connection, message: ClientMessage, received: number, bytes: number): boolean {
    const device = this.waitsFor(conn, message);
    if (device === undefined) return false;
    this.keep(conn, { device, message, received }, bytes);
    const wait = conn.session.attachWait;
    if (wait && message.type === 'stream_open') wait.channels.set(message.channel, device);
    return true;
  }

  /** True when the stream chunk (valid only during the call) is on a channel whose opening waits. */
  chunk(conn: Connection, frame: Uint8Array): boolean {
    const device = conn.session.attachWait?.channels.get(frame[1] ?? 0);
    if (device === undefined) return false;
    this.keep(conn, { device, chunk: frame.slice() }, frame.byteLength);
    return true;
  }

  /** An attach of the connection was answered: what waited for it goes on, or is dropped. */
  answered(conn: Connection, device: string, admitted: boolean): void {
    const wait = conn.session.attachWait;
    if (!wait?.perDevice.has(device)) return;
    if (!admitted) {
      // Up to an attach of the same device that waits too, which is another one.
      let dropping = true;
      wait.frames = wait.frames.filter((f) => {
        if (f.device !== device) return true;
        if (f.message?.type === 'attach') dropping = false;
        if (dropping) this.forget(wait, f);
        return !dropping;
      });
    }
    for (const frame of [...wait.frames]) {
      if (conn.session.attachWait !== wait) return;
      if (frame.device !== device) continue;
      // An attach of it handled just now: the rest waits for that one's answer.
      if (this.pending(conn, device)) break;
      wait.frames.splice(wait.frames.indexOf(frame), 1);
      this.forget(wait, frame);
      if (frame.message) this.dispatcher.dispatch(conn, frame.message, frame.received);
      else if (frame.chunk) this.streams.chunk(conn, frame.chunk);
    }
    if (conn.session.attachWait === wait && wait.frames.length === 0) {
      conn.session.attachWait = undefined;
    }
  }

  /** The device a message must wait for, if any. */
  private waitsFor(conn: Connection, message: ClientMessage): string | undefined {
    const wait = conn.session.attachWait;
    if (message.type === 'stream_close') return wait?.channels.get(message.channel);
    const device = deviceOf(message);
    if (device === undefined) return undefined;
    if (wait?.perDevice.has(device)) return device;
    // An attach or detach goes on unless something of its device already waits.
    if (message.type === 'attach' || message.type === 'detach') return undefined;
    return this.pending(conn, device) ? device : undefined;
  }

  private keep(conn: Connection, frame: QueuedFrame, bytes: number): void {
    const { session } = conn;
    const wait: AttachWait = (session.attachWait ??= {
      frames: [],
      bytes: 0,
      perDevice: new Map(),
      channels: new Map(),
    });
    wait.bytes += bytes + QUEUED_FRAME_OVERHEAD;
    const maxFrames = Math.max(MIN_QUEUED, session.limits.rateBurst);
    if (wait.frames.length >= maxFrames || wait.bytes > MAX_QUEUED_BYTES) {
      session.attachWait = undefined;
      this.metrics.messagesInOf.get('invalid', conn.transport).inc();
      conn.end(CloseCode.PolicyViolation, CloseReason.TooEarlyForAttach);
      return;
    }
    wait.frames.push(frame);
    wait.perDevice.set(frame.device, (wait.perDevice.get(frame.device) ?? 0) + 1);
  }

  /** A frame leaves the queue (handled or dropped). */
  private forget(wait: AttachWait, frame: QueuedFrame): void {
    const left = (wait.perDevice.get(frame.device) ?? 1) - 1;
    if (left > 0) wait.perDevice.set(frame.device, left);
    else wait.perDevice.delete(frame.device);
    if (
      frame.message?.type === 'stream_open' &&
      wait.channels.get(frame.message.channel) === frame.device
    ) {
      wait.channels.delete(frame.message.channel);
    }
  }
}

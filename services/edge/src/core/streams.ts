import { canPublishAs, isDeviceRole } from '@fleetwire/auth';
import {
  ErrorCode,
  ProtocolError,
  decodeStreamChunk,
  encodeRelayFrame,
  relayHeader,
  topicProblem,
  type ClientMessage,
  type DeliveryMessage,
} from '@fleetwire/protocol';

import type { EdgeMetrics } from '../metrics.js';
import type { AbuseGuard } from './abuse-guard.js';
import type { Connection } from './connection.js';
import type { Fanout } from './fanout.js';
import type { Outbound } from './outbound.js';
import { TokenBucket } from './rate-limiter.js';
import type { OpenStream } from './session.js';
import type { SubDevices } from './sub-devices.js';

type StreamOpen = Extract<ClientMessage, { type: 'stream_open' }>;
type StreamClose = Extract<ClientMessage, { type: 'stream_close' }>;

export interface StreamLimits {
  /** Bytes a second each device may stream (all its streams together). */
  streamBytesPerSec: number;
  streamBurstBytes: number;
}

/** Streams one connection may hold open at once (a gateway's sub-devices' included). */
export const MAX_STREAMS_PER_CONNECTION = 16;
/**
 * What a chunk costs at least against the byte rate, so a flood of tiny chunks is bounded in
 * frames a second too (256 a second at the default 64 KiB/s).
 */
export const MIN_CHUNK_COST_BYTES = 256;

/** Dropped chunks that cost one message of the message rate. */
const DROPS_PER_MESSAGE = 16;

/** Byte budgets a connection keeps before it forgets the full ones. */
const PRUNE_BUDGETS_AT = 64;

/**
 * Binary streams: a device (or a gateway for a sub-device) opens a named stream on a channel,
 * and every binary chunk on that channel goes to the stream topic's subscribers with a relay
 * header in front and the payload as it came. Nothing is stored. Opening and closing are
 * announced on the topic as `kind: "stream"` deliveries, so a listener learns `meta`.
 */
export class StreamRelay {
  constructor(
    private readonly fanout: Fanout,
    private readonly subDevices: SubDevices,
    private readonly outbound: Outbound,
    private readonly guard: AbuseGuard,
    private readonly metrics: EdgeMetrics,
    private readonly limits: StreamLimits,
  ) {}

  open(conn: Connection, message: StreamOpen): void {
    const { session } = conn;
    const { identity } = session;
    if (!isDeviceRole(identity)) {
      return this.refuse(conn, ErrorCode.NotAllowed, 'only devices open streams', message.id);
    }
    const device = this.subDevices.speaker(conn, message.device, message.id);
    if (device === undefined) return;
    const topic = `devices/${device}/streams/${message.name}`;
    const problem = topicProblem(topic);
    if (problem) return this.refuse(conn, ErrorCode.BadTopic, problem, message.id);
    if (!canPublishAs(identity, device, topic)) {
      return this.refuse(conn, ErrorCode.Forbidden, `may not publish to ${topic}`, message.id);
    }
    const streams = (session.streams ??= new Map());
    if (streams.has(message.channel)) {
      const text = `channel ${message.channel} is open already`;
      return this.refuse(conn, ErrorCode.BadMessage, text, message.id);
    }
    if (streams.size >= MAX_STREAMS_PER_CONNECTION) {
      const text = `at most ${MAX_STREAMS_PER_CONNECTION} open streams per connection`;
      return this.refuse(conn, ErrorCode.UnknownStream, text, message.id);
    }
    const stream: OpenStream = {
      topic,
      device,
      header: relayHeader(topic),
      seq: 0,
      throttled: false,
    };
    streams.set(message.channel, stream);
    this.metrics.streamsOpen.inc();
    this.announce(conn, stream, { state: 'open', ...(message.meta ? { meta: message.meta } : {}) });
    if (message.id) this.outbound.send(conn, { type: 'ack', id: message.id });
  }

  close(conn: Connection, message: StreamClose): void {
    const stream = conn.session.streams?.get(message.channel);
    if (!stream) {
      const text = `channel ${message.channel} is not open`;
      return this.refuse(conn, ErrorCode.UnknownStream, text, message.id);
    }
    this.end(conn, message.channel, stream);
    if (message.id) this.outbound.send(conn, { type: 'ack', id: message.id });
  }

  /**
   * One binary chunk (the frame as uWS handed it: valid only during this call). Not counted
   * against the message rate: the byte rate bounds it, per device.
   */
  chunk(conn: Connection, frame: Uint8Array): void {
    const { session } = conn;
    let channel: number;
    let payload: Uint8Array;
    try {
      ({ channel, payload } = decodeStreamChunk(frame));
    } catch (error) {
      if (!(error instanceof ProtocolError)) throw error;
      this.guard.refuse(conn, error);
      return;
    }
    const stream = session.streams?.get(channel);
    if (!stream) {
      return this.refuse(
        conn,
        ErrorCode.UnknownStream,
        `channel ${channel} is not open`,
        undefined,
      );
    }
    if (stream.device !== session.identity.subject && !session.subDevices?.has(stream.device)) {
      // The sub-device was detached, or connected elsewhere: its stream ends here.
      this.end(conn, channel, stream);
      const text = `${stream.device} is not attached`;
      return this.refuse(conn, ErrorCode.SubDeviceNotAttached, text, undefined);
    }
    if (!this.budgetOf(conn, stream.device).take(Math.max(payload.length, MIN_CHUNK_COST_BYTES))) {
      this.metrics.streamDrops.inc({ reason: 'rate_limited' });
      // Every 16th dropped chunk costs a message of the message rate: a stream somewhat over
      // its budget for long costs a few tokens a second, a flood of frames (each costs the edge
      // about as much as a message) is closed with 1008 as a flood of messages is.
      session.droppedChunks = ((session.droppedChunks ?? 0) + 1) % DROPS_PER_MESSAGE;
      if (session.droppedChunks === 0 && !this.guard.admit(conn, performance.now())) return;
      if (!stream.throttled) {
        stream.throttled = true;
        const text = `stream bytes over ${this.limits.streamBytesPerSec}/s for ${stream.device}; chunks dropped`;
        this.guard.refuse(conn, new ProtocolError(ErrorCode.RateLimited, text), false);
      }
      return;
    }
    stream.throttled = false;
    const relay = encodeRelayFrame(stream.header, stream.seq, payload);
    stream.seq = (stream.seq + 1) >>> 0;
    this.fanout.publishStream(session.identity.tenant, stream.topic, relay);
  }

  /** The connection closed: its streams end (announced). */
  closed(conn: Connection): void {
    for (const [channel, stream] of conn.session.streams ?? []) this.end(conn, channel, stream);
  }

  private end(conn: Connection, channel: number, stream: OpenStream): void {
    conn.session.streams?.delete(channel);
    this.metrics.streamsOpen.dec();
    this.announce(conn, stream, { state: 'closed', chunks: stream.seq });
  }

  private announce(conn: Connection, stream: OpenStream, data: Record<string, unknown>): void {
    const { subject, tenant } = conn.session.identity;
    const delivery: DeliveryMessage = {
      type: 'message',
      kind: 'stream',
      topic: stream.topic,
      from: stream.device,
      ...(stream.device === subject ? {} : { via: subject }),
      ts: Date.now(),
      data,
    };
    // With the chunks, outside history: ordered around them on every node (fanout.publishLive).
    this.fanout.publishLive(tenant, delivery, performance.now());
  }

  private budgetOf(conn: Connection, device: string): TokenBucket {
    const budgets = (conn.session.streamBudgets ??= new Map());
    let budget = budgets.get(device);
    if (!budget) {
      // A full budget is as good as a new one: forgotten, so a gateway streaming for ever new
      // sub-devices keeps only those it spent on within the last seconds.
      if (budgets.size >= PRUNE_BUDGETS_AT) {
        for (const [held, bucket] of budgets) if (bucket.isFull()) budgets.delete(held);
      }
      budget = new TokenBucket(this.limits.streamBytesPerSec, this.limits.streamBurstBytes);
      budgets.set(device, budget);
    }
    return budget;
  }

  private refuse(conn: Connection, code: ErrorCode, text: string, ref: string | undefined): void {
    this.guard.refuse(conn, new ProtocolError(code, text, ref));
  }
}

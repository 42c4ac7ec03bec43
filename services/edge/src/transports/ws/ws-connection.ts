import { encodeMessage, type ServerMessage, type WireFormat } from '@fleetwire/protocol';
import type { WebSocket } from 'uWebSockets.js';

import type { EdgeMetrics } from '../../metrics.js';
import type { Connection } from '../../core/connection.js';
import type { Session } from '../../core/session.js';
import type { HeldPublishes } from '../tick-publisher.js';

/** uWS's user data for a socket: the session from the upgrade, the connection once open. */
export interface WsUserData {
  session: Session;
  connection?: WsConnection;
}

export type EdgeSocket = WebSocket<WsUserData>;

/** What every WebSocket connection of a node shares: one object, not a copy per connection. */
export interface WsConnectionContext {
  metrics: EdgeMetrics;
  /** A listener further behind than this gets no stream chunks until it caught up. */
  streamMaxBufferedBytes: number;
  /** Deliveries held for the end of the tick, sent before a direct message to a subscriber. */
  held: HeldPublishes;
}

/**
 * A WebSocket connection: JSON in text frames or MessagePack in binary frames, one format per
 * connection, which is also its fan-out lane. Three fields per connection (an idle node holds
 * one per socket): what is the same for every connection is in the shared context.
 */
export class WsConnection implements Connection {
  constructor(
    private readonly ws: EdgeSocket,
    readonly session: Session,
    private readonly ctx: WsConnectionContext,
  ) {}

  get lane(): WireFormat {
    return this.session.format ?? 'json';
  }

  get transport(): 'ws' {
    return 'ws';
  }

  /** Stream frames are binary on either format: a JSON connection's messages stay text. */
  writeStream(frame: Uint8Array): boolean {
    if (this.session.closed || this.ws.getBufferedAmount() > this.ctx.streamMaxBufferedBytes) {
      return false;
    }
    this.deliveriesFirst();
    let status = 0;
    this.ws.cork(() => {
      status = this.ws.send(frame, true);
    });
    if (status === 2) return false;
    this.ctx.metrics.bytesOutOf.get('ws').inc(frame.byteLength);
    return true;
  }

  write(message: ServerMessage): boolean {
    this.deliveriesFirst();
    const lane = this.lane;
    const frame = encodeMessage(message, lane);
    // Sends from outside a uWS callback (bus messages, Kafka acks, timers) sit in uWS's buffer
    // until something flushes it unless corked; corking inside a callback costs nothing.
    let status = 0;
    this.ws.cork(() => {
      status = this.ws.send(frame, lane === 'msgpack');
    });
    if (status === 2) return false;
    this.ctx.metrics.bytesOutOf
      .get('ws')
      .inc(typeof frame === 'string' ? Buffer.byteLength(frame) : frame.byteLength);
    return true;
  }

  bufferedBytes(): number {
    return this.session.closed ? 0 : this.ws.getBufferedAmount();
  }

  /** Corked, because a close frame written outside a uWS callback otherwise waits for the next event. */
  end(code: number, reason: string): void {
    if (this.session.closed) return;
    this.deliveriesFirst();
    this.ws.cork(() => this.ws.end(code, reason));
  }

  /** Only a subscribed socket can have deliveries held: the others keep the tick's batch whole. */
  private deliveriesFirst(): void {
    if (this.session.patterns.size > 0) this.ctx.held.flush();
  }

  join(topic: string): void {
    // What was published before the socket joined is not its own: a resumed subscription got it
    // from its hold, so the tick's held publishes go out before the socket joins their topic.
    this.ctx.held.flush();
    this.ws.subscribe(`${this.lane}|${topic}`);
  }

  leave(topic: string): void {
    if (!this.session.closed) this.ws.unsubscribe(`${this.lane}|${topic}`);
  }
}

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

/**
 * A WebSocket connection: JSON in text frames or MessagePack in binary frames, one format per
 * connection, which is also its fan-out lane.
 */
export class WsConnection implements Connection {
  readonly lane: WireFormat;
  readonly transport = 'ws';

  constructor(
    private readonly ws: EdgeSocket,
    readonly session: Session,
    private readonly metrics: EdgeMetrics,
    private readonly streamMaxBufferedBytes: number,
    private readonly held: HeldPublishes,
  ) {
    this.lane = session.format ?? 'json';
  }

  /** Stream frames are binary on either format: a JSON connection's messages stay text. */
  writeStream(frame: Uint8Array): boolean {
    if (this.session.closed || this.ws.getBufferedAmount() > this.streamMaxBufferedBytes) {
      return false;
    }
    this.deliveriesFirst();
    let status = 0;
    this.ws.cork(() => {
      status = this.ws.send(frame, true);
    });
    if (status === 2) return false;
    this.metrics.bytesOut.inc({ transport: 'ws' }, frame.byteLength);
    return true;
  }

  write(message: ServerMessage): boolean {
    this.deliveriesFirst();
    const frame = encodeMessage(message, this.lane);
    // Sends from outside a uWS callback (bus messages, Kafka acks, timers) sit in uWS's buffer
    // until something flushes it unless corked; corking inside a callback costs nothing.
    let status = 0;
    this.ws.cork(() => {
      status = this.ws.send(frame, this.lane === 'msgpack');
    });
    if (status === 2) return false;
    this.metrics.bytesOut.inc(
      { transport: 'ws' },
      typeof frame === 'string' ? Buffer.byteLength(frame) : frame.byteLength,
    );
    return true;
  }

  /** Corked, because a close frame written outside a uWS callback otherwise waits for the next event. */
  end(code: number, reason: string): void {
    if (this.session.closed) return;
    this.deliveriesFirst();
    this.ws.cork(() => this.ws.end(code, reason));
  }

  /** Only a subscribed socket can have deliveries held: the others keep the tick's batch whole. */
  private deliveriesFirst(): void {
    if (this.session.patterns.size > 0) this.held.flush();
  }

  join(topic: string): void {
    // What was published before the socket joined is not its own: a resumed subscription got it
    // from its hold, so the tick's held publishes go out before the socket joins their topic.
    this.held.flush();
    this.ws.subscribe(`${this.lane}|${topic}`);
  }

  leave(topic: string): void {
    if (!this.session.closed) this.ws.unsubscribe(`${this.lane}|${topic}`);
  }
}

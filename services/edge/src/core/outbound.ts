import type { ServerMessage } from '@fleetwire/protocol';

import type { EdgeMetrics } from '../metrics.js';
import type { Connection } from './connection.js';

/**
 * Every direct message to a client (welcome, acks, errors, commands, pongs) goes through here:
 * `welcome` is always the first, and a message dropped for backpressure is counted.
 */
export class Outbound {
  constructor(private readonly metrics: EdgeMetrics) {}

  send(conn: Connection, message: ServerMessage): void {
    const { session } = conn;
    if (session.closed) return;
    if (session.beforeWelcome) {
      if (message.type !== 'welcome') {
        session.beforeWelcome.push(message);
        return;
      }
      const held = session.beforeWelcome;
      session.beforeWelcome = undefined;
      this.send(conn, message);
      for (const later of held) this.send(conn, later);
      return;
    }
    if (conn.write(message)) {
      this.metrics.messagesOutOf.get(message.type, conn.transport).inc();
    } else this.metrics.backpressureDrops.inc();
  }
}

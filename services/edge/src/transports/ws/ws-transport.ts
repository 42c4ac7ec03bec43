import { isDeviceRole, type TokenVerifier } from '@fleetwire/auth';
import {
  CloseCode,
  CloseReason,
  ProtocolError,
  decodeFrame,
  isStreamFrame,
  parseClientMessage,
  type ClientMessage,
} from '@fleetwire/protocol';
import type { Logger } from 'pino';
import type { TemplatedApp } from 'uWebSockets.js';

import type { EdgeLimits } from '../../config.js';
import type { SessionCore } from '../../core/session-core.js';
import { sendError } from '../../http-json.js';
import type { EdgeMetrics } from '../../metrics.js';
import type { Uws } from '../../uws.js';
import { socketOptions } from '../socket-options.js';
import type { HeldPublishes } from '../tick-publisher.js';
import { handleUpgrade, upgradeContext } from './upgrade.js';
import { WsConnection, type EdgeSocket, type WsUserData } from './ws-connection.js';

export interface WsTransportDeps {
  uws: Uws;
  core: SessionCore;
  verifier: TokenVerifier;
  limits: EdgeLimits;
  metrics: EdgeMetrics;
  logger: Logger;
  /** Deliveries held for the end of the tick, sent before a direct message to a subscriber. */
  held: HeldPublishes;
  /** False while draining: upgrades are refused with 503. */
  accepting: () => boolean;
}

/**
 * Why uWS itself ended a connection without a close frame, from the reason it hands the close
 * handler (uWS 20.30 sends no 1007/1009 of its own; see the README's known limits).
 */
function socketCutReason(reason: string): string | undefined {
  if (reason.includes('invalid UTF-8')) return 'invalid_utf8';
  if (reason.includes('inflation')) return 'inflation';
  if (reason.includes('too big')) return 'too_big';
  return undefined;
}

/**
 * The WebSocket transport on `/ws`: JSON text frames and MessagePack binary frames over uWS.
 * It authenticates at upgrade, checks and decodes each frame and hands the message to the
 * session core; everything else is the core's.
 */
export function registerWsTransport(app: TemplatedApp, deps: WsTransportDeps): void {
  const { uws, core, limits, metrics, logger } = deps;

  const bytesIn = metrics.bytesInOf.get('ws');
  const onMessage = (ws: EdgeSocket, data: ArrayBuffer, isBinary: boolean): void => {
    const received = performance.now();
    const conn = ws.getUserData().connection;
    if (!conn) return;
    bytesIn.inc(data.byteLength);
    if (data.byteLength > limits.maxPayloadBytes) {
      metrics.messagesIn.inc({ kind: 'too_big', transport: 'ws' });
      conn.end(CloseCode.MessageTooBig, CloseReason.MessageTooBig);
      return;
    }
    if (core.awaitingWelcome(conn)) {
      core.holdUntilWelcome(conn, data, (copy) => onFrame(conn, copy, isBinary, received));
    } else onFrame(conn, data, isBinary, received);
  };

  /** A frame within the size limit, from a connection that has its `welcome`. */
  const onFrame = (
    conn: WsConnection,
    data: ArrayBuffer,
    isBinary: boolean,
    received: number,
  ): void => {
    if (isBinary) {
      const bytes = new Uint8Array(data);
      // Stream chunks have their own (byte) rate, per device: see core/streams.ts.
      if (isStreamFrame(bytes)) return core.streamChunk(conn, bytes);
    }
    if (!core.admit(conn, received)) return;
    let message: ClientMessage;
    try {
      const { identity } = conn.session;
      // A gateway's own frames follow the device rules; it speaks for others with `device`.
      const device = isDeviceRole(identity);
      message = parseClientMessage(decodeFrame(data, isBinary, limits.decode), {
        bareTelemetry: device,
        ...(device ? { deviceId: identity.subject } : {}),
      });
    } catch (error) {
      if (!(error instanceof ProtocolError)) throw error;
      core.refused(conn, error);
      return;
    }
    core.received(conn, message, received, data.byteLength);
  };

  const connections = {
    metrics,
    streamMaxBufferedBytes: limits.streamMaxBufferedBytes,
    held: deps.held,
  };
  const upgrades = upgradeContext({ ...deps, metrics, logger, limits }, core);
  app.ws<WsUserData>('/ws', {
    ...socketOptions(limits, uws),
    upgrade: (res, req, context) => void handleUpgrade(upgrades, res, req, context),
    open: (ws) => {
      const data = ws.getUserData();
      data.connection = new WsConnection(ws, data.session, connections);
      core.opened(data.connection);
    },
    message: onMessage,
    close: (ws, code, message) => {
      const conn = ws.getUserData().connection;
      if (!conn) return;
      core.closed(conn, code);
      const cut = code === 1006 ? socketCutReason(Buffer.from(message).toString()) : undefined;
      if (cut) metrics.socketCuts.inc({ reason: cut });
      logger.debug({ session: conn.session.id, code, ...(cut ? { cut } : {}) }, 'disconnected');
    },
  });

  // uWS passes on upgrades it cannot parse (e.g. a malformed Sec-WebSocket-Key) and plain GETs.
  app.get('/ws', (res, req) => {
    const isUpgrade = req.getHeader('upgrade').toLowerCase() === 'websocket';
    const reason = isUpgrade ? 'bad_handshake' : 'not_an_upgrade';
    metrics.upgradeRefusals.inc({ reason });
    if (isUpgrade) {
      sendError(res, reason, 'malformed WebSocket handshake');
    } else {
      sendError(res, reason, 'connect with a WebSocket client', { upgrade: 'websocket' });
    }
  });
}

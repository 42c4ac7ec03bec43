import { randomUUID } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';

import { canPublish, canSubscribe, type TokenVerifier } from '@fleetwire/auth';
import { MemoryPresence, type Bus, type PresenceStore } from '@fleetwire/bus';
import {
  CloseCode,
  CloseReason,
  ErrorCode,
  NackReason,
  ProtocolError,
  decodeFrame,
  encodeMessage,
  parseClientMessage,
  patternProblem,
  topicProblem,
  type ClientMessage,
  type DeliveryMessage,
  type ServerMessage,
} from '@fleetwire/protocol';
import type { Logger } from 'pino';
import type { TemplatedApp, us_listen_socket } from 'uWebSockets.js';

import { CommandRouter, type CommandSender } from './commands.js';
import type { EdgeConfig } from './config.js';
import { Fanout } from './fanout.js';
import { registerHttpApi } from './http-api.js';
import { sendJson } from './http-json.js';
import type { EdgeMetrics } from './metrics.js';
import { endSocket, type EdgeSocket, type Session } from './session.js';
import { PresenceTracker } from './presence-tracker.js';
import { registerStaticFiles } from './static-files.js';
import type { TelemetrySink } from './telemetry-sink.js';
import { handleUpgrade } from './upgrade.js';
import type { Uws } from './uws.js';

export interface EdgeServerDeps {
  config: EdgeConfig;
  uws: Uws;
  verifier: TokenVerifier;
  metrics: EdgeMetrics;
  logger: Logger;
  /** Where telemetry is kept; without one, telemetry is acked once delivered locally. */
  telemetrySink?: TelemetrySink;
  /** Cross-node delivery; without it, this node serves alone. */
  bus?: Bus;
  /** Shared presence records; defaults to an in-process store (single node). */
  presence?: PresenceStore;
  /**
   * Extra HTTP routes on the same port (the embedded mode mounts the telemetry read API here);
   * registered after the edge's own routes and before the dashboard files and the 404.
   */
  routes?: (app: TemplatedApp) => void;
}

type Publishable = Extract<ClientMessage, { type: 'telemetry' | 'event' | 'status' | 'publish' }>;

const ABUSE_WINDOW_MS = 60_000;

/** A device clock this far off is not believed; the record takes the edge's time. */
const DEVICE_TS_PAST_MS = 7 * 24 * 3600 * 1000;
const DEVICE_TS_FUTURE_MS = 5 * 60 * 1000;

function recordTime(deviceTs: number | undefined, received: number): number {
  if (deviceTs === undefined) return received;
  const plausible =
    deviceTs >= received - DEVICE_TS_PAST_MS && deviceTs <= received + DEVICE_TS_FUTURE_MS;
  return plausible ? deviceTs : received;
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

/** Longest timer Node accepts; tokens expiring later get no expiry timer. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** One edge node: the uWS app, its WebSocket route and its operational HTTP routes. */
export class EdgeServer {
  readonly app: TemplatedApp;
  private readonly fanout: Fanout;
  private readonly commands: CommandRouter;
  private readonly presence: PresenceTracker;
  private readonly sockets = new Set<EdgeSocket>();
  private listenSocket: us_listen_socket | undefined;
  private listeningPort = 0;
  private draining = false;
  private sessionIds = 0;

  constructor(private readonly deps: EdgeServerDeps) {
    const { config, uws } = deps;
    this.app = config.tls
      ? uws.SSLApp({
          cert_file_name: config.tls.certFile,
          key_file_name: config.tls.keyFile,
          ...(config.tls.passphrase ? { passphrase: config.tls.passphrase } : {}),
        })
      : uws.App();
    const { metrics, logger, bus } = deps;
    this.fanout = new Fanout(this.app, metrics, logger, bus);
    this.commands = new CommandRouter(
      (ws, session, message) => this.send(ws, session, message),
      metrics,
      logger,
      config.limits.commandTimeoutMs,
      bus,
    );
    const presenceTtlMs = config.presenceTtlMs;
    this.presence = new PresenceTracker(
      deps.presence ?? new MemoryPresence(presenceTtlMs),
      bus?.nodeId ?? config.nodeId,
      presenceTtlMs,
      this.fanout,
      this.commands,
      logger,
    );
    metrics.busReady.set(bus?.ready === false ? 0 : 1);
    bus?.onStatus((ready) => {
      metrics.busReady.set(ready ? 1 : 0);
      logger.warn(
        { ready },
        ready ? 'bus connected' : 'bus disconnected: cross-node delivery paused',
      );
    });
    this.routes();
  }

  get port(): number {
    return this.listeningPort;
  }

  get connectionCount(): number {
    return this.sockets.size;
  }

  /** Ready to take connections: listening, not draining, bus and telemetry log up. */
  get ready(): boolean {
    return Object.values(this.readiness()).every(Boolean);
  }

  readiness(): { listening: boolean; accepting: boolean; bus: boolean; telemetryLog: boolean } {
    return {
      listening: this.listenSocket !== undefined,
      accepting: !this.draining,
      bus: this.deps.bus?.ready ?? true,
      telemetryLog: this.deps.telemetrySink?.ready ?? true,
    };
  }

  /** The presence tracker, for tests that drive its renewal by hand. */
  get presenceTracker(): PresenceTracker {
    return this.presence;
  }

  /** Internal state sizes, for tests and debugging: all zero once every client left. */
  stateSizes(): { sockets: number; patterns: number; devices: number; pendingCommands: number } {
    return {
      sockets: this.sockets.size,
      patterns: this.fanout.patternCount,
      devices: this.commands.deviceCount,
      pendingCommands: this.commands.pendingCount,
    };
  }

  listen(): Promise<number> {
    const { host, port } = this.deps.config;
    return new Promise((resolve, reject) => {
      this.app.listen(host, port, (socket) => {
        if (!socket) {
          reject(new Error(`edge: cannot listen on ${host}:${port}`));
          return;
        }
        this.listenSocket = socket;
        this.listeningPort = this.deps.uws.us_socket_local_port(socket);
        this.presence.start();
        resolve(this.listeningPort);
      });
    });
  }

  /**
   * Graceful shutdown: stop accepting, close every connection with 1012 spread over the drain
   * window (so clients do not all reconnect to the other nodes at once), then flush telemetry.
   */
  async drain(windowMs = this.deps.config.drainWindowMs): Promise<void> {
    this.draining = true;
    this.stopListening();
    const sockets = [...this.sockets];
    this.deps.logger.info({ connections: sockets.length, windowMs }, 'draining');
    const tickMs = 10;
    const ticks = Math.max(1, Math.floor(windowMs / tickMs));
    const perTick = Math.ceil(sockets.length / ticks);
    for (let i = 0; i < sockets.length; i += perTick) {
      for (const ws of sockets.slice(i, i + perTick)) {
        endSocket(ws, CloseCode.ServiceRestart, CloseReason.Draining);
      }
      if (i + perTick < sockets.length) await delay(tickMs);
    }
    await this.deps.telemetrySink?.flush();
    this.presence.stop();
    this.commands.close();
    this.deps.logger.info('drained');
  }

  /** Immediate stop: no new connections, every socket closed at once. */
  close(): void {
    this.draining = true;
    this.stopListening();
    this.presence.stop();
    this.commands.close();
    for (const ws of [...this.sockets]) {
      endSocket(ws, CloseCode.ServiceRestart, CloseReason.Draining);
    }
  }

  private stopListening(): void {
    if (this.listenSocket) this.deps.uws.us_listen_socket_close(this.listenSocket);
    this.listenSocket = undefined;
  }

  private routes(): void {
    const { config, uws, metrics, logger } = this.deps;
    const { limits } = config;
    this.app.ws<Session>('/ws', {
      // uWS cuts a frame over its own limit without a close frame (1006); reading frames up to
      // oversizeCloseBytes lets the edge refuse an oversize frame with a proper 1009 instead.
      maxPayloadLength: limits.oversizeCloseBytes,
      idleTimeout: limits.idleTimeoutSec,
      sendPingsAutomatically: true,
      maxBackpressure: limits.maxBackpressureBytes,
      closeOnBackpressureLimit: limits.backpressurePolicy === 'close' ? 1 : 0,
      compression: limits.compression ? uws.SHARED_COMPRESSOR : uws.DISABLED,
      upgrade: (res, req, context) =>
        handleUpgrade(
          {
            verifier: this.deps.verifier,
            metrics,
            logger,
            limits,
            accepting: () => !this.draining,
            openConnections: () => this.sockets.size,
            nextSessionId: () => ++this.sessionIds,
          },
          res,
          req,
          context,
        ),
      open: (ws) => this.onOpen(ws),
      message: (ws, data, isBinary) => this.onMessage(ws, data, isBinary),
      close: (ws, code, message) => this.onClose(ws, code, message),
    });
    // uWS passes on upgrades it cannot parse (e.g. a malformed Sec-WebSocket-Key) and plain GETs.
    this.app.get('/ws', (res, req) => {
      const isUpgrade = req.getHeader('upgrade').toLowerCase() === 'websocket';
      const reason = isUpgrade ? 'bad_handshake' : 'not_an_upgrade';
      metrics.upgradeRefusals.inc({ reason });
      if (isUpgrade) {
        sendJson(res, '400 Bad Request', {
          error: reason,
          message: 'malformed WebSocket handshake',
        });
      } else {
        sendJson(
          res,
          '426 Upgrade Required',
          { error: reason, message: 'connect with a WebSocket client' },
          { upgrade: 'websocket' },
        );
      }
    });
    this.app.get('/healthz', (res) => sendJson(res, '200 OK', { status: 'ok' }));
    this.app.get('/readyz', (res) => {
      const checks = this.readiness();
      if (Object.values(checks).every(Boolean))
        sendJson(res, '200 OK', { status: 'ready', checks });
      else
        sendJson(res, '503 Service Unavailable', {
          status: this.draining ? 'draining' : 'not_ready',
          checks,
        });
    });
    this.app.get('/metrics', (res) => {
      let aborted = false;
      res.onAborted(() => {
        aborted = true;
      });
      metrics.registry.metrics().then(
        (text) => {
          if (aborted) return;
          res.cork(() => {
            res
              .writeStatus('200 OK')
              .writeHeader('content-type', metrics.registry.contentType)
              .end(text);
          });
        },
        (error: unknown) => {
          logger.error({ err: error }, 'metrics collection failed');
          if (!aborted) sendJson(res, '500 Internal Server Error', { error: 'metrics' });
        },
      );
    });
    registerHttpApi(this.app, {
      verifier: this.deps.verifier,
      commands: this.commands,
      presence: this.presence,
      metrics,
      logger,
      decodeLimits: limits.decode,
    });
    this.deps.routes?.(this.app);
    registerStaticFiles(this.app, { dir: config.dashboardDir, logger });
    this.app.any('/*', (res) => sendJson(res, '404 Not Found', { error: 'not_found' }));
  }

  private onOpen(ws: EdgeSocket): void {
    const session = ws.getUserData();
    const { identity } = session;
    this.sockets.add(ws);
    this.deps.metrics.connections.inc({ role: identity.role });
    // `welcome` waits until the device is reachable from every node: a client that has it can
    // be sent commands at once.
    let registered: Promise<void> = Promise.resolve();
    if (identity.role === 'device') {
      registered = this.commands.attachDevice(ws, session);
      this.presence.online(identity);
    }
    if (identity.expiresAt !== undefined) {
      // The same skew the verifier allowed at connect time.
      const ms = identity.expiresAt + this.deps.config.auth.clockToleranceSec * 1000 - Date.now();
      if (ms < MAX_TIMER_MS) {
        session.expiryTimer = setTimeout(
          () => {
            endSocket(ws, CloseCode.TokenExpired, CloseReason.TokenExpired);
          },
          Math.max(0, ms),
        );
      }
    }
    this.deps.logger.debug(
      { session: session.id, sub: identity.subject, role: identity.role, tenant: identity.tenant },
      'connected',
    );
    void registered.then(() =>
      this.send(ws, session, {
        type: 'welcome',
        sub: identity.subject,
        role: identity.role,
        tenant: identity.tenant,
        node: this.deps.config.nodeId,
        format: session.format,
      }),
    );
  }

  private onClose(ws: EdgeSocket, code: number, message: ArrayBuffer): void {
    const session = ws.getUserData();
    session.closed = true;
    clearTimeout(session.expiryTimer);
    this.sockets.delete(ws);
    this.fanout.release(session);
    // A replaced connection leaves quietly: the device is still online elsewhere.
    if (session.identity.role === 'device' && this.commands.detachDevice(ws, session)) {
      this.presence.offline(session.identity);
    }
    this.commands.senderClosed(session);
    this.deps.metrics.connections.dec({ role: session.identity.role });
    this.deps.metrics.disconnects.inc({ code: String(code) });
    const cut = code === 1006 ? socketCutReason(Buffer.from(message).toString()) : undefined;
    if (cut) this.deps.metrics.socketCuts.inc({ reason: cut });
    this.deps.logger.debug({ session: session.id, code, ...(cut ? { cut } : {}) }, 'disconnected');
  }

  private onMessage(ws: EdgeSocket, data: ArrayBuffer, isBinary: boolean): void {
    const received = performance.now();
    const session = ws.getUserData();
    // Abuse is counted per minute, so occasional mistakes never add up to a close.
    if (received - session.abuseWindowStart > ABUSE_WINDOW_MS) {
      session.abuseWindowStart = received;
      session.rateViolations = 0;
      session.protocolErrors = 0;
    }
    const { metrics, config } = this.deps;
    metrics.bytesIn.inc(data.byteLength);
    if (data.byteLength > config.limits.maxPayloadBytes) {
      metrics.messagesIn.inc({ kind: 'too_big' });
      endSocket(ws, CloseCode.MessageTooBig, CloseReason.MessageTooBig);
      return;
    }

    if (!session.bucket.take()) {
      session.rateViolations += 1;
      metrics.rateLimited.inc();
      metrics.messagesIn.inc({ kind: 'rate_limited' });
      if (session.rateViolations >= config.limits.rateCloseAfter) {
        this.deps.logger.warn(
          { session: session.id, sub: session.identity.subject },
          'rate limit: closing',
        );
        endSocket(ws, CloseCode.PolicyViolation, CloseReason.RateLimitExceeded);
        return;
      }
      this.fail(
        ws,
        session,
        new ProtocolError(ErrorCode.RateLimited, 'message rate over the limit; dropped'),
        false,
      );
      return;
    }

    let message: ClientMessage;
    try {
      message = parseClientMessage(decodeFrame(data, isBinary, config.limits.decode), {
        bareTelemetry: session.identity.role === 'device',
      });
    } catch (error) {
      if (!(error instanceof ProtocolError)) throw error;
      metrics.messagesIn.inc({ kind: 'invalid' });
      this.fail(ws, session, error);
      return;
    }
    metrics.messagesIn.inc({ kind: message.type });
    this.dispatch(ws, session, message, received);
  }

  private dispatch(
    ws: EdgeSocket,
    session: Session,
    message: ClientMessage,
    received: number,
  ): void {
    const { identity } = session;
    switch (message.type) {
      case 'telemetry':
      case 'event':
      case 'status':
        if (identity.role !== 'device') {
          return this.fail(
            ws,
            session,
            new ProtocolError(
              ErrorCode.NotAllowed,
              `only devices send ${message.type}`,
              message.id,
            ),
          );
        }
        return this.publish(ws, session, message, received);
      case 'publish':
        return this.publish(ws, session, message, received);
      case 'subscribe':
        return this.subscribe(ws, session, message.topics, message.id);
      case 'unsubscribe':
        for (const pattern of message.topics) this.fanout.unsubscribe(ws, session, pattern);
        if (message.id) this.send(ws, session, { type: 'ack', id: message.id });
        return;
      case 'command':
        if (!identity.command) {
          return this.fail(
            ws,
            session,
            new ProtocolError(ErrorCode.NotAllowed, 'this role may not send commands', message.id),
          );
        }
        return this.commands.dispatch(this.senderOf(ws, session), message);
      case 'ack':
      case 'nack':
        if (identity.role !== 'device') {
          return this.fail(
            ws,
            session,
            new ProtocolError(ErrorCode.NotAllowed, 'only devices answer commands', message.id),
          );
        }
        return this.commands.answer(session, message);
      case 'ping':
        return this.send(ws, session, {
          type: 'pong',
          ...(message.id === undefined ? {} : { id: message.id }),
          ts: Date.now(),
        });
    }
  }

  private topicOf(session: Session, message: Publishable): string {
    const base = `devices/${session.identity.subject}`;
    switch (message.type) {
      case 'telemetry':
        return message.stream ? `${base}/telemetry/${message.stream}` : `${base}/telemetry`;
      case 'event':
        return `${base}/events/${message.name}`;
      case 'status':
        return `${base}/status`;
      case 'publish':
        return message.topic;
    }
  }

  private publish(ws: EdgeSocket, session: Session, message: Publishable, received: number): void {
    const { identity } = session;
    const topic = this.topicOf(session, message);
    const problem = topicProblem(topic);
    if (problem)
      return this.fail(ws, session, new ProtocolError(ErrorCode.BadTopic, problem, message.id));
    if (!canPublish(identity, topic)) {
      return this.fail(
        ws,
        session,
        new ProtocolError(ErrorCode.Forbidden, `may not publish to ${topic}`, message.id),
      );
    }
    const ts = Date.now();
    const delivery: DeliveryMessage = {
      type: 'message',
      kind: message.type,
      topic,
      from: identity.subject,
      ...(message.id === undefined ? {} : { id: message.id }),
      ts,
      data: message.data ?? {},
    };
    this.fanout.publish(identity.tenant, delivery, received);
    const sink = this.deps.telemetrySink;
    if (message.type === 'telemetry' && sink) {
      sink
        .append({
          v: 1,
          tenant: identity.tenant,
          deviceId: identity.subject,
          // Every record gets an id, so the store can recognise a replay after a crash.
          msgId: message.id ?? randomUUID(),
          topic,
          ts: recordTime(message.ts, ts),
          data: message.data,
        })
        .then(
          () => {
            if (message.id) this.send(ws, session, { type: 'ack', id: message.id });
          },
          (error: unknown) => {
            // Counted here; the batch failure itself is visible in the telemetry log's metrics.
            this.deps.logger.debug({ err: error, session: session.id }, 'telemetry not stored');
            this.deps.metrics.telemetryNacks.inc({ reason: NackReason.Retry });
            if (message.id)
              this.send(ws, session, { type: 'nack', id: message.id, reason: NackReason.Retry });
          },
        );
      return;
    }
    if (message.id) this.send(ws, session, { type: 'ack', id: message.id });
  }

  private subscribe(
    ws: EdgeSocket,
    session: Session,
    patterns: string[],
    id: string | undefined,
  ): void {
    for (const pattern of patterns) {
      const problem = patternProblem(pattern);
      if (problem)
        return this.fail(
          ws,
          session,
          new ProtocolError(ErrorCode.BadTopic, `${pattern}: ${problem}`, id),
        );
      if (!canSubscribe(session.identity, pattern)) {
        return this.fail(
          ws,
          session,
          new ProtocolError(ErrorCode.Forbidden, `may not subscribe to ${pattern}`, id),
        );
      }
    }
    const added = new Set(patterns.filter((p) => !session.patterns.has(p))).size;
    if (session.patterns.size + added > this.deps.config.limits.maxSubscriptions) {
      return this.fail(
        ws,
        session,
        new ProtocolError(
          ErrorCode.TooManySubscriptions,
          `at most ${this.deps.config.limits.maxSubscriptions} subscriptions per connection`,
          id,
        ),
      );
    }
    const held = patterns.map((pattern) => this.fanout.subscribe(ws, session, pattern));
    if (id) void Promise.all(held).then(() => this.send(ws, session, { type: 'ack', id }));
  }

  /**
   * Answers a refused message with `error`. Invalid messages count towards closing the
   * connection (1008); rate-limit refusals have their own count.
   */
  private fail(ws: EdgeSocket, session: Session, error: ProtocolError, countsAsAbuse = true): void {
    this.deps.metrics.protocolErrors.inc({ code: error.code });
    this.send(ws, session, {
      type: 'error',
      code: error.code,
      message: error.message,
      ...(error.ref === undefined ? {} : { ref: error.ref }),
    });
    if (!countsAsAbuse) return;
    session.protocolErrors += 1;
    if (session.protocolErrors >= this.deps.config.limits.maxProtocolErrors && !session.closed) {
      this.deps.logger.warn(
        { session: session.id, sub: session.identity.subject },
        'too many invalid messages: closing',
      );
      endSocket(ws, CloseCode.PolicyViolation, CloseReason.TooManyErrors);
    }
  }

  private senderOf(ws: EdgeSocket, session: Session): CommandSender {
    return {
      subject: session.identity.subject,
      tenant: session.identity.tenant,
      owner: session,
      reply: (answer) => this.send(ws, session, answer),
    };
  }

  private send(ws: EdgeSocket, session: Session, message: ServerMessage): void {
    if (session.closed) return;
    if (session.beforeWelcome) {
      if (message.type !== 'welcome') {
        session.beforeWelcome.push(message);
        return;
      }
      const held = session.beforeWelcome;
      session.beforeWelcome = undefined;
      this.send(ws, session, message);
      for (const later of held) this.send(ws, session, later);
      return;
    }
    const frame = encodeMessage(message, session.format);
    // Sends from outside a uWS callback (bus messages, Kafka acks, timers) sit in uWS's buffer
    // until something flushes it unless corked; corking inside a callback costs nothing.
    let status = 0;
    ws.cork(() => {
      status = ws.send(frame, session.format === 'msgpack');
    });
    const { metrics } = this.deps;
    if (status === 2) {
      metrics.backpressureDrops.inc();
      return;
    }
    metrics.messagesOut.inc({ kind: message.type });
    metrics.bytesOut.inc(typeof frame === 'string' ? Buffer.byteLength(frame) : frame.byteLength);
  }
}

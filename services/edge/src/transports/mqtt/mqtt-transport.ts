// Longer than the house limit: one closure owns the per-socket state machine that the uWS
// handlers share (waiting for CONNECT → checking the token → open → closing), its timers and the
// packet queue before CONNACK. The pieces that stand alone are split out (connect checks, topics,
// delivery, codes, size guard, retained store). Splitting the state machine is a known follow-up.
import { randomUUID } from 'node:crypto';

import type { Identity, TokenVerifier } from '@fleetwire/auth';
import { canPublish } from '@fleetwire/auth';
import {
  CloseCode,
  NackReason,
  PatternIndex,
  ProtocolError,
  isEdgeTopic,
  topicProblem,
  type ClientMessage,
} from '@fleetwire/protocol';
import {
  parser as mqttParser,
  type IConnectPacket,
  type IPublishPacket,
  type ISubscribePacket,
  type IUnsubscribePacket,
  type Packet,
  type Parser,
} from 'mqtt-packet';
import type { Logger } from 'pino';
import type { TemplatedApp, WebSocket } from 'uWebSockets.js';

import type { EdgeLimits, MqttSettings } from '../../config.js';
import { createSession } from '../../core/session.js';
import type { SessionCore } from '../../core/session-core.js';
import { sendError } from '../../http-json.js';
import { closeCodeLabel, type EdgeMetrics } from '../../metrics.js';
import type { Uws } from '../../uws.js';
import { handleUpgrade, upgradeContext, type UpgradeProfile } from '../ws/upgrade.js';
import { admitConnect, type Will } from './mqtt-connect.js';
import {
  Disconnect,
  MqttClose,
  refusalConnack,
  type ConnectRefusal,
  type MqttVersion,
} from './mqtt-codes.js';
import { socketOptions } from '../socket-options.js';
import { MqttConnection, type InboundContext } from './mqtt-connection.js';
import { answerTopic, messageOfPublish, notUtf8 } from './mqtt-topics.js';
import { PacketSizeGuard } from './packet-size-guard.js';
import { RetainedStore, type RetainedMessage } from './retained-store.js';
import type { HeldPublishes } from '../tick-publisher.js';

export interface MqttTransportDeps {
  uws: Uws;
  core: SessionCore;
  verifier: TokenVerifier;
  limits: EdgeLimits;
  settings: MqttSettings;
  metrics: EdgeMetrics;
  logger: Logger;
  /** Deliveries held for the end of the tick, sent before a direct packet to a subscriber. */
  held: HeldPublishes;
  /** False while draining: upgrades and CONNECTs are refused. */
  accepting: () => boolean;
}

/**
 * The subprotocol MQTT over WebSocket uses (MQTT 3.1.1 §6, 5.0 §6); `mqttv3.1` is echoed only so
 * that an MQTT 3.1 client hears its CONNACK 1 (unacceptable protocol version).
 */
export const MQTT_SUBPROTOCOLS = ['mqtt', 'mqttv3.1'] as const;

/**
 * What a retained PUBLISH may leave behind: data. A command or an answer is an act, not a
 * state: retained, it would be carried out again by whoever subscribes later (and an accepted
 * PUBLISH may still be a refused command, answered with a nack rather than an error).
 */
function retainable(message: ClientMessage): boolean {
  return (
    message.type === 'publish' ||
    message.type === 'telemetry' ||
    message.type === 'event' ||
    message.type === 'status'
  );
}

/** A retained payload of its own: a slice would keep the whole frame it came in alive. */
function ownCopy(payload: Buffer): Buffer {
  const copy = Buffer.alloc(payload.length);
  payload.copy(copy);
  return copy;
}

/**
 * Packets one WebSocket frame may carry (clients send a packet or a few per frame); more is a
 * flood of tiny packets, closed before they are parsed.
 */
const MAX_PACKETS_PER_FRAME = 64;

/** Packets that may arrive between CONNECT and CONNACK; more is a client not waiting at all. */
const MAX_QUEUED_PACKETS = 32;
/** Retained messages a SUBSCRIBE's replay may look at per rate token it costs. */
const REPLAY_SCAN_PER_TOKEN = 1_000;
const SWEEP_MS = 1_000;

type SocketState = 'connect' | 'auth' | 'open' | 'closed';

/** uWS's user data for an MQTT socket: what the upgrade knew, then the connection. */
interface MqttSocket {
  upgradeIdentity: Identity | undefined;
  remote: string;
  sessionId: number;
  state: SocketState;
  ws?: WebSocket<MqttSocket>;
  parser?: Parser;
  guard?: PacketSizeGuard;
  incoming: Packet[];
  parseError?: Error | undefined;
  /** Packets received before CONNACK went out, handled right after it. */
  queue: Packet[];
  openedAt: number;
  lastSeen: number;
  keepaliveMs: number;
  will?: Will | undefined;
  /** The client sent DISCONNECT (its Will is discarded, §3.14.4). */
  cleanDisconnect: boolean;
  connection?: MqttConnection;
  /** Counted among the node's sockets waiting for a session (SessionCore.socketWaiting). */
  waiting?: boolean;
}

export interface MqttTransport {
  readonly retained: RetainedStore;
  /** Stops the keepalive sweep and closes sockets that never sent CONNECT. */
  stop(): void;
}

/**
 * MQTT 3.1.1 and 5.0 over WebSocket (binary frames, subprotocol `mqtt`) on its own path of the
 * same uWS app: mqtt-packet parses and generates packets; each CONNECT becomes a session of the
 * core, each PUBLISH / SUBSCRIBE / UNSUBSCRIBE a client message. docs/mqtt.md describes it.
 */
export function registerMqttTransport(app: TemplatedApp, deps: MqttTransportDeps): MqttTransport {
  const { uws, core, limits, settings, metrics, logger } = deps;
  const retained = new RetainedStore(settings.maxRetained);
  /** What a retained replay lets a socket have waiting before it waits for the socket to drain. */
  const replayBudget = Math.floor(limits.maxBackpressureBytes / 2);
  const sockets = new Set<MqttSocket>();

  const profile: UpgradeProfile<MqttSocket> = {
    subprotocols: MQTT_SUBPROTOCOLS,
    tokenRequired: false,
    userData: ({ identity, remote, sessionId }) => ({
      upgradeIdentity: identity,
      remote,
      sessionId,
      state: 'connect',
      incoming: [],
      queue: [],
      openedAt: performance.now(),
      lastSeen: performance.now(),
      keepaliveMs: 0,
      cleanDisconnect: false,
    }),
  };

  /** Closes a socket that has no connection yet (before or during CONNECT). */
  const closeRaw = (s: MqttSocket, code: number, reason: string): void => {
    if (s.state === 'closed' || !s.ws) return;
    const ws = s.ws;
    ws.cork(() => ws.end(code, reason));
  };

  /** The stream is broken or breaks the protocol: MQTT 5 DISCONNECT with a reason, then close. */
  const fail = (s: MqttSocket, mqttReason: number, wsCode: number, reason: string): void => {
    logger.debug({ session: s.sessionId, reason }, 'mqtt: closing');
    if (s.connection?.acknowledged) s.connection.disconnect(mqttReason, wsCode, reason);
    else closeRaw(s, wsCode, reason);
  };

  /** A packet the edge does not take: counted as invalid, then closed as `fail` does. */
  const failInvalid = (s: MqttSocket, mqttReason: number, wsCode: number, reason: string): void => {
    metrics.messagesIn.inc({ kind: 'invalid', transport: 'mqtt' });
    fail(s, mqttReason, wsCode, reason);
  };

  /** A malformed packet (§4.13): counted, MQTT 5 DISCONNECT 0x81, closed with 1002. */
  const malformed = (s: MqttSocket, why: string): void =>
    failInvalid(s, Disconnect.MalformedPacket, MqttClose.ProtocolError, `malformed packet: ${why}`);

  const refuseConnect = (
    s: MqttSocket,
    version: MqttVersion,
    refusal: ConnectRefusal,
    reason: string,
  ): void => {
    metrics.mqttConnectRefusals.inc({ reason: refusal });
    logger.warn({ remote: s.remote, refusal }, `mqtt: CONNECT refused: ${reason}`);
    if (s.state === 'closed' || !s.ws) return;
    const ws = s.ws;
    const packet = refusalConnack(refusal, version, reason);
    const unavailable = refusal === 'server_unavailable' || refusal === 'server_busy';
    s.state = 'closed';
    ws.cork(() => {
      ws.send(packet, true);
      ws.end(unavailable ? MqttClose.TryAgainLater : CloseCode.PolicyViolation, reason);
    });
  };

  const connect = async (s: MqttSocket, packet: IConnectPacket): Promise<void> => {
    const outcome = await admitConnect(packet, {
      verifier: deps.verifier,
      upgradeIdentity: s.upgradeIdentity,
      decodeLimits: limits.decode,
      sessionId: s.sessionId,
      retainAvailable: retained.enabled,
    });
    if (s.state === 'closed' || !s.ws) return;
    if (!outcome.ok) {
      if (outcome.authCode) metrics.authFailures.inc({ reason: outcome.authCode });
      return refuseConnect(s, outcome.version, outcome.refusal, outcome.reason);
    }
    if (!deps.accepting()) {
      return refuseConnect(s, outcome.version, 'server_unavailable', 'this node is shutting down');
    }
    if (core.connectionCount >= limits.maxConnections) {
      return refuseConnect(s, outcome.version, 'server_busy', 'this node is full');
    }
    const session = createSession(
      { id: s.sessionId, identity: outcome.identity, remote: s.remote },
      limits,
    );
    s.keepaliveMs = outcome.keepaliveSec * 1000;
    s.will = outcome.will;
    s.state = 'open';
    notWaiting(s);
    s.connection = new MqttConnection(
      s.ws as WebSocket<unknown>,
      session,
      outcome.version,
      metrics,
      {
        ...(outcome.assignedClientId === undefined
          ? {}
          : { assignedClientId: outcome.assignedClientId }),
        sessionExpiryOverride: outcome.wantedSession,
        maxPacketBytes: settings.maxPacketBytes,
        maxInflight: settings.maxInflight,
        retainAvailable: retained.enabled,
        problemInformation: outcome.problemInformation,
      },
      () => queueMicrotask(() => drainQueue(s)),
      deps.held,
    );
    logger.debug(
      { session: s.sessionId, clientId: outcome.clientId, version: outcome.version },
      'mqtt: connected',
    );
    core.opened(s.connection);
  };

  const drainQueue = (s: MqttSocket): void => {
    const queued = s.queue.splice(0);
    for (const packet of queued) {
      if (s.state !== 'open') return;
      dispatch(s, packet, performance.now());
    }
  };

  const onPublish = (
    s: MqttSocket,
    conn: MqttConnection,
    p: IPublishPacket,
    received: number,
  ): void => {
    if (p.qos === 2) {
      return failInvalid(
        s,
        Disconnect.QosNotSupported,
        MqttClose.ProtocolError,
        'QoS 2 is not supported',
      );
    }
    if (p.properties?.topicAlias !== undefined) {
      // CONNACK announced no topic aliases (Topic Alias Maximum absent = 0, §3.2.2.3.8).
      return failInvalid(s, 0x94, MqttClose.ProtocolError, 'topic aliases are not supported');
    }
    if (p.qos === 1 && conn.inflight >= settings.maxInflight) {
      return failInvalid(
        s,
        Disconnect.ReceiveMaximumExceeded,
        CloseCode.PolicyViolation,
        'too many QoS 1 messages in flight',
      );
    }
    const { identity } = conn.session;
    const payload = Buffer.isBuffer(p.payload) ? p.payload : Buffer.from(p.payload);
    const context: InboundContext = { packetId: p.messageId, qos: p.qos, answered: false };
    conn.within(context, () => {
      if (!core.admit(conn, received) || conn.closing) return;
      if (p.retain && payload.length === 0) {
        // An empty retained message clears the topic's (§3.3.1.3); nothing is delivered.
        if (topicProblem(p.topic) || !canPublish(identity, p.topic) || isEdgeTopic(p.topic)) {
          core.refused(conn, new ProtocolError('forbidden', `may not publish to ${p.topic}`));
          return;
        }
        retained.set(identity.tenant, p.topic, payload);
        return;
      }
      let message;
      try {
        message = messageOfPublish(
          identity,
          { topic: p.topic, payload, ...(p.qos === 1 ? { assignId: randomUUID } : {}) },
          limits.decode,
        );
      } catch (error) {
        if (!(error instanceof ProtocolError)) throw error;
        core.refused(conn, error);
        return;
      }
      if (message.type === 'command' && conn.awaitingAnswer(message.id)) {
        // Answers come back by id alone: a second command with a waiting id, even to another
        // device, would get the first one's answer on its topic.
        conn.sendPublish(
          answerTopic(message.target),
          JSON.stringify({
            type: 'nack',
            id: message.id,
            reason: NackReason.Invalid,
            message: 'a command with this id is waiting for its answer on this connection',
          }),
        );
        return;
      }
      if (message.type === 'command') {
        context.command = true;
        context.id = message.id;
        conn.expectAnswer(message.id, message.target);
      } else if (message.type !== 'ack' && message.type !== 'nack') {
        context.id = message.id;
      }
      core.received(conn, message, received);
      if (p.retain && !context.refusal && retainable(message)) {
        retained.set(identity.tenant, p.topic, ownCopy(payload));
      }
    });
    conn.afterPublish(context);
  };

  const onSubscribe = (conn: MqttConnection, p: ISubscribePacket, received: number): void => {
    // A filter repeated in one SUBSCRIBE is one subscription (MQTT 5 §3.8.4: the later replaces
    // the earlier); each copy still gets its SUBACK code.
    const filters = p.subscriptions.map((sub) => sub.topic);
    const ids = conn.subscribeIds(p.messageId as number, filters, (granted) =>
      replayRetained(conn, granted),
    );
    if (!core.admit(conn, received)) {
      for (const id of ids.values()) conn.refuseFilter(id, 'rate_limited');
      return;
    }
    for (const [topic, id] of ids) {
      // A refused filter may have been the one too many: a closed connection takes no more.
      if (conn.closing) return;
      core.received(conn, { type: 'subscribe', id, topics: [topic] }, received);
    }
  };

  /**
   * The retained messages a SUBSCRIBE's granted filters match, each once however many of them
   * match it: one pass over the tenant's (tested against all the filters at once). They are sent
   * as the socket takes them: past half its backpressure limit the rest waits for the socket to
   * drain (a tenant's retained messages may be far more than a socket may have waiting, and a
   * socket over its limit is cut). One replaced or removed meanwhile is not sent (its successor
   * went out live). The pass costs a token per REPLAY_SCAN_PER_TOKEN messages looked at (at most
   * the burst): a client re-subscribing in a loop runs out of tokens, not the node out of time.
   */
  const replayRetained = (conn: MqttConnection, granted: readonly string[]): void => {
    const { tenant } = conn.session.identity;
    const held = retained.sizeOf(tenant);
    if (granted.length === 0 || held === 0) return;
    const cost = Math.min(Math.floor(held / REPLAY_SCAN_PER_TOKEN), limits.rateBurst);
    if (cost > 0 && !core.admit(conn, performance.now(), cost)) return;
    const filters = new PatternIndex();
    for (const filter of granted) filters.add(filter);
    const matching: RetainedMessage[] = [];
    for (const message of retained.of(tenant)) {
      if (filters.match(message.topic).length > 0) matching.push(message);
    }
    if (matching.length === 0) return;
    const due = conn.retainedDue;
    if (due) due.messages.push(...matching);
    else conn.retainedDue = { messages: matching, next: 0 };
    sendRetained(conn);
  };

  /** Sends what the replay still has due while the socket takes it (see replayRetained). */
  const sendRetained = (conn: MqttConnection): void => {
    const due = conn.retainedDue;
    if (!due) return;
    const { tenant } = conn.session.identity;
    conn.corked(() => {
      while (due.next < due.messages.length) {
        if (conn.closing) return;
        const message = due.messages[due.next] as RetainedMessage;
        const waiting = conn.bufferedBytes();
        if (waiting > 0 && waiting + message.payload.length > replayBudget) return;
        due.next += 1;
        if (!retained.isCurrent(tenant, message)) continue;
        if (!conn.sendPublish(message.topic, message.payload, true)) {
          if (!conn.closing) metrics.backpressureDrops.inc();
          return;
        }
      }
      conn.retainedDue = undefined;
    });
  };

  const onUnsubscribe = (conn: MqttConnection, p: IUnsubscribePacket, received: number): void => {
    const filters = p.unsubscriptions;
    const had = filters.map((filter) => conn.session.patterns.has(filter));
    const admitted = core.admit(conn, received);
    if (conn.closing) return;
    if (admitted) core.received(conn, { type: 'unsubscribe', topics: filters }, received);
    conn.sendPacket({
      cmd: 'unsuback',
      messageId: p.messageId as number,
      ...(conn.version === 5
        ? // §3.11.2.1 has no Quota exceeded: a rate-limited UNSUBSCRIBE gets 0x80.
          { granted: had.map((held) => (!admitted ? 0x80 : held ? 0x00 : 0x11)) }
        : {}),
    } as Packet);
  };

  /** A packet of an open connection whose CONNACK went out. */
  const dispatch = (s: MqttSocket, packet: Packet, received: number): void => {
    const conn = s.connection as MqttConnection;
    const topics =
      packet.cmd === 'publish'
        ? [packet.topic]
        : packet.cmd === 'subscribe'
          ? packet.subscriptions.map((sub) => sub.topic)
          : packet.cmd === 'unsubscribe'
            ? packet.unsubscriptions
            : [];
    if (notUtf8(topics)) return malformed(s, 'a topic is not valid UTF-8');
    switch (packet.cmd) {
      case 'publish':
        return onPublish(s, conn, packet, received);
      case 'subscribe':
        if (packet.subscriptions.length === 0) {
          // §3.8.3-2: at least one filter.
          return malformed(s, 'SUBSCRIBE without topic filters');
        }
        return onSubscribe(conn, packet, received);
      case 'unsubscribe':
        if (packet.unsubscriptions.length === 0) {
          // §3.10.3-2: at least one filter. mqtt-packet parses an empty one but cannot write its
          // MQTT 5 UNSUBACK (it throws), so it is refused as malformed here.
          return malformed(s, 'UNSUBSCRIBE without topic filters');
        }
        return onUnsubscribe(conn, packet, received);
      case 'pingreq':
        if (core.admit(conn, received)) conn.sendPacket({ cmd: 'pingresp' });
        return;
      case 'puback':
        // The edge publishes at QoS 0 only, so a PUBACK answers nothing; like every packet it
        // costs a token (a flood of them is rate-limited and closed like any other).
        core.admit(conn, received);
        return;
      case 'disconnect':
        // MQTT 5 reason 0x04: "Disconnect with Will Message" (§3.14.2.1).
        s.cleanDisconnect = !(conn.version === 5 && packet.reasonCode === 0x04);
        closeRaw(s, CloseCode.Normal, 'client disconnected');
        return;
      default:
        // A second CONNECT (§3.1.0-2), QoS 2 flow, AUTH, or a server-only packet.
        return failInvalid(
          s,
          Disconnect.ProtocolError,
          MqttClose.ProtocolError,
          `unexpected ${packet.cmd} packet`,
        );
    }
  };

  const onPacket = (s: MqttSocket, packet: Packet, received: number): void => {
    if (s.state === 'connect') {
      if (packet.cmd !== 'connect') {
        // §3.1.0-1: the first packet is CONNECT.
        metrics.messagesIn.inc({ kind: 'invalid', transport: 'mqtt' });
        return closeRaw(s, MqttClose.ProtocolError, 'the first packet must be CONNECT');
      }
      s.state = 'auth';
      connect(s, packet).catch((error: unknown) => {
        logger.error({ err: error, session: s.sessionId }, 'mqtt: CONNECT failed');
        closeRaw(s, CloseCode.InternalError, 'internal error');
      });
      return;
    }
    if (s.state === 'open' && s.connection?.acknowledged) {
      return dispatch(s, packet, received);
    }
    if (s.queue.length >= MAX_QUEUED_PACKETS) {
      metrics.messagesIn.inc({ kind: 'invalid', transport: 'mqtt' });
      return closeRaw(s, CloseCode.PolicyViolation, 'too many packets before CONNACK');
    }
    s.queue.push(packet);
  };

  const onMessage = (ws: WebSocket<MqttSocket>, data: ArrayBuffer, isBinary: boolean): void => {
    const s = ws.getUserData();
    if (s.state === 'closed' || !s.parser || !s.guard) return;
    const received = performance.now();
    metrics.bytesIn.inc({ transport: 'mqtt' }, data.byteLength);
    if (!isBinary) {
      // §6.0.0-1: MQTT travels in binary frames only; anything else closes the connection.
      return failInvalid(s, Disconnect.MalformedPacket, 1003, 'MQTT needs binary frames');
    }
    const bytes = new Uint8Array(data);
    const verdict = s.guard.check(bytes);
    try {
      // Copied: uWS reuses `data` once this handler returns, and the parser keeps partial packets.
      // Packets before an oversize or malformed one in the same frame are still handled.
      s.parser.parse(Buffer.from(verdict ? bytes.subarray(0, verdict.before) : bytes));
    } catch (error) {
      s.parseError = error as Error;
    }
    const packets = s.incoming.splice(0);
    // Keep alive counts Control Packets (§3.1.2.10), not bytes: dripping a packet that never
    // completes does not keep a connection alive.
    if (packets.length > 0) s.lastSeen = received;
    const gone = (): boolean => s.state === 'closed' || s.connection?.closing === true;
    for (const packet of packets) {
      if (gone()) return;
      onPacket(s, packet, received);
    }
    if (verdict && !gone()) {
      if (verdict.problem === 'too_big') {
        metrics.messagesIn.inc({ kind: 'too_big', transport: 'mqtt' });
        return fail(s, Disconnect.PacketTooLarge, CloseCode.MessageTooBig, 'packet too large');
      }
      if (verdict.problem === 'too_many') {
        return failInvalid(
          s,
          Disconnect.MessageRateTooHigh,
          CloseCode.PolicyViolation,
          `more than ${MAX_PACKETS_PER_FRAME} packets in one frame`,
        );
      }
      return failInvalid(
        s,
        Disconnect.MalformedPacket,
        MqttClose.ProtocolError,
        'malformed length',
      );
    }
    if (s.parseError && !gone()) {
      const why = s.parseError.message;
      s.parseError = undefined;
      // A CONNECT of a protocol level the parser does not know (§3.1.2-2: CONNACK 1, in 3.1.1's
      // form, the one a client of any level can read).
      if (s.state === 'connect' && why === 'Invalid protocol version') {
        return refuseConnect(s, 4, 'unsupported_version', 'unknown MQTT protocol level');
      }
      malformed(s, why);
    }
  };

  /** The Will of a connection that ended without DISCONNECT, published as the client would. */
  const publishWill = (conn: MqttConnection, will: Will): void => {
    const { identity } = conn.session;
    try {
      const message = messageOfPublish(
        identity,
        { topic: will.topic, payload: will.payload },
        limits.decode,
      );
      core.received(conn, message, performance.now());
      if (will.retain && retainable(message) && !isEdgeTopic(will.topic)) {
        retained.set(identity.tenant, will.topic, ownCopy(will.payload));
      }
    } catch (error) {
      if (!(error instanceof ProtocolError)) throw error;
      logger.debug({ err: error, session: conn.session.id }, 'mqtt: Will not published');
    }
  };

  /** The socket no longer waits for a session: it has one, or it closed. */
  const notWaiting = (s: MqttSocket): void => {
    if (!s.waiting) return;
    s.waiting = false;
    core.socketWaiting(-1);
  };

  const upgrades = upgradeContext({ ...deps, metrics, logger, limits }, core);
  app.ws<MqttSocket>(settings.path, {
    // Packets may span frames, so the packet limit is the guard's; frames are capped as on /ws.
    ...socketOptions(limits, uws),
    upgrade: (res, req, context) => void handleUpgrade(upgrades, res, req, context, profile),
    open: (ws) => {
      const s = ws.getUserData();
      s.ws = ws;
      s.openedAt = performance.now();
      s.lastSeen = s.openedAt;
      s.guard = new PacketSizeGuard(settings.maxPacketBytes, MAX_PACKETS_PER_FRAME);
      const parser = mqttParser();
      parser.on('packet', (packet) => s.incoming.push(packet));
      parser.on('error', (error: Error) => {
        s.parseError ??= error;
      });
      s.parser = parser;
      sockets.add(s);
      s.waiting = true;
      core.socketWaiting(1);
    },
    message: onMessage,
    drain: (ws) => {
      const conn = ws.getUserData().connection;
      if (conn?.retainedDue) sendRetained(conn);
    },
    close: (ws, code) => {
      const s = ws.getUserData();
      s.state = 'closed';
      sockets.delete(s);
      notWaiting(s);
      s.parser?.removeAllListeners();
      const conn = s.connection;
      if (!conn) {
        // Never a session (no CONNECT in time, refused, broken before CONNACK): counted here.
        metrics.disconnectsOf.get(closeCodeLabel(code), 'mqtt').inc();
        return;
      }
      conn.markGone();
      // Nothing more may be written; the Will's own answers are dropped by the core.
      conn.session.closed = true;
      const moved = code === CloseCode.SessionReplaced || code === CloseCode.ServiceRestart;
      // A CONNECT never answered with CONNACK (refused at the tenant's limit of devices, or
      // gone before its presence was written) was never accepted: it leaves no Will.
      if (s.will && !s.cleanDisconnect && !moved && conn.acknowledged) publishWill(conn, s.will);
      core.closed(conn, code);
      logger.debug({ session: conn.session.id, code }, 'mqtt: disconnected');
    },
  });

  app.get(settings.path, (res, req) => {
    const isUpgrade = req.getHeader('upgrade').toLowerCase() === 'websocket';
    const reason = isUpgrade ? 'bad_handshake' : 'not_an_upgrade';
    metrics.upgradeRefusals.inc({ reason });
    if (isUpgrade) sendError(res, reason, 'malformed WebSocket handshake');
    else
      sendError(res, reason, 'connect with an MQTT-over-WebSocket client', {
        upgrade: 'websocket',
      });
  });

  const sweep = setInterval(() => {
    const now = performance.now();
    for (const s of sockets) {
      if (s.state === 'connect' || s.state === 'auth') {
        if (now - s.openedAt > settings.connectTimeoutMs) {
          closeRaw(s, CloseCode.PolicyViolation, 'no CONNECT in time');
        }
      } else if (s.state === 'open' && s.keepaliveMs > 0) {
        // §3.1.2.10 (3.1.1 §3.1.2-24): one and a half keep-alive periods without a packet.
        if (now - s.lastSeen > 1.5 * s.keepaliveMs) {
          s.connection?.disconnect(Disconnect.KeepAliveTimeout, 1001, 'keep alive timeout');
        }
      }
    }
  }, SWEEP_MS);
  sweep.unref();

  return {
    retained,
    stop: () => {
      clearInterval(sweep);
      for (const s of [...sockets]) {
        if (s.state === 'connect' || s.state === 'auth') {
          closeRaw(s, CloseCode.ServiceRestart, 'server draining');
        }
      }
    },
  };
}

import { isDeviceRole } from '@fleetwire/auth';
import type { Bus, PresenceStore } from '@fleetwire/bus';
import {
  CloseCode,
  CloseReason,
  type ClientMessage,
  type ProtocolError,
} from '@fleetwire/protocol';
import type { DeviceStateStore } from '@fleetwire/store';
import type { Logger } from 'pino';

import { closeCodeLabel, type EdgeMetrics } from '../metrics.js';
import type { TelemetrySink } from '../telemetry-sink.js';
import { AbuseGuard } from './abuse-guard.js';
import { AttachQueue } from './attach-queue.js';
import { closedOverHeldBounds, handleHeldFrame } from './held-frames.js';
import { CommandRouter } from './commands.js';
import type { Connection, LocalDelivery } from './connection.js';
import type { Session } from './session.js';
import { DependencyFailures } from './dependency-failures.js';
import { BusOutbox } from './bus-outbox.js';
import { DeviceStates } from './device-states.js';
import { Dispatcher } from './dispatcher.js';
import { Fanout, type FanoutHistory } from './fanout.js';
import { HistoryPolicy, type HistorySettings } from './history-policy.js';
import { NodeMessageGate } from './node-message-gate.js';
import { Outbound } from './outbound.js';
import { PresenceTracker } from './presence-tracker.js';
import { Publisher } from './publisher.js';
import { Recovery } from './recovery.js';
import type { RebalanceSettings } from './rebalance-plan.js';
import { Rebalancer } from './rebalancer.js';
import { StreamRelay, type StreamLimits } from './streams.js';
import { SubDevices } from './sub-devices.js';
import { Subscriptions } from './subscriptions.js';
import { TokenExpiry } from './token-expiry.js';

export interface SessionCoreLimits extends StreamLimits {
  rateCloseAfter: number;
  maxProtocolErrors: number;
  maxSubscriptions: number;
  commandTimeoutMs: number;
  /** Sub-devices one gateway connection may attach. */
  maxSubDevices: number;
  /** Bytes a socket may have waiting before it is cut (or its messages dropped). */
  maxBackpressureBytes: number;
}

export interface SessionCoreDeps {
  nodeId: string;
  limits: SessionCoreLimits;
  /** The clock skew the verifier allows; a token's expiry closes its connection this late. */
  clockToleranceSec: number;
  presenceTtlMs: number;
  presence: PresenceStore;
  metrics: EdgeMetrics;
  logger: Logger;
  /** How this node's transports deliver to their own connections. */
  local: LocalDelivery;
  bus?: Bus | undefined;
  /** History and recovery; only with a bus. */
  history?: HistorySettings | undefined;
  telemetrySink?: TelemetrySink | undefined;
  /** Where device state documents live; without it, `state.*` messages are nacked `retry`. */
  deviceState?: DeviceStateStore | undefined;
  /** False once the node drains: it stops reporting its load and stops rebalancing. */
  accepting?: () => boolean;
  /** Opt-in: shed connections while far over this node's share (see Rebalancer). */
  rebalance?: RebalanceSettings | undefined;
}

/**
 * The session core: what happens to a connected principal, whatever transport carries it.
 * A transport authenticates, decodes and writes; it tells the core when a connection opens and
 * closes and hands it each decoded message. The core answers through the Connection.
 */
export class SessionCore {
  readonly fanout: Fanout;
  readonly commands: CommandRouter;
  readonly recovery: Recovery;
  readonly presence: PresenceTracker;
  readonly outbound: Outbound;
  readonly states: DeviceStates | undefined;
  private readonly guard: AbuseGuard;
  private readonly dispatcher: Dispatcher;
  private readonly subDevices: SubDevices;
  private readonly attachQueue: AttachQueue;
  private readonly streams: StreamRelay;
  private readonly gate: NodeMessageGate;
  private readonly failures: DependencyFailures;
  private readonly connections = new Set<Connection>();
  private readonly expiry = new TokenExpiry();
  readonly rebalancer: Rebalancer | undefined;

  constructor(private readonly deps: SessionCoreDeps) {
    const { metrics, logger, bus, limits } = deps;
    this.gate = new NodeMessageGate(metrics, logger);
    this.failures = new DependencyFailures(logger, { counter: metrics.dependencyFailures });
    this.outbound = new Outbound(metrics);
    this.guard = new AbuseGuard(limits, this.outbound, metrics, logger);
    const policy = deps.history ? new HistoryPolicy(deps.history) : undefined;
    let history: FanoutHistory | undefined;
    if (bus && policy) {
      const { outboxMax, outboxMaxBytes, maxTopics } = policy.settings;
      const limits = { maxMessages: outboxMax, maxBytes: outboxMaxBytes, maxGapTopics: maxTopics };
      history = { policy, outbox: new BusOutbox(bus, limits, metrics, this.failures) };
    }
    this.fanout = new Fanout(
      deps.local,
      metrics,
      this.gate,
      this.failures,
      this.outbound,
      bus,
      history,
    );
    this.commands = new CommandRouter(
      (conn, message) => this.outbound.send(conn, message),
      metrics,
      limits.commandTimeoutMs,
      this.gate,
      this.failures,
      bus,
      (device) => deps.presence.owner(device),
    );
    const presenceNode = bus?.nodeId ?? deps.nodeId;
    const accepting = deps.accepting ?? (() => true);
    // Every node reports its load, rebalancing or not: peers that rebalance count it in.
    this.presence = new PresenceTracker(
      deps.presence,
      presenceNode,
      deps.presenceTtlMs,
      this.fanout,
      this.commands,
      this.failures,
      logger,
      () => (accepting() ? this.connections.size : undefined),
    );
    this.rebalancer = deps.rebalance
      ? new Rebalancer({
          store: deps.presence,
          nodeId: presenceNode,
          settings: deps.rebalance,
          heartbeatMs: this.presence.heartbeatMs,
          connections: () => this.openConnections(),
          accepting,
          metrics,
          logger,
          failures: this.failures,
        })
      : undefined;
    const publisher = new Publisher(
      this.fanout,
      this.outbound,
      this.guard,
      metrics,
      logger,
      deps.telemetrySink,
    );
    this.recovery = new Recovery(
      this.fanout,
      this.outbound,
      metrics,
      this.gate,
      this.failures,
      // Half the socket's limit: the recovery, then what was held and live meanwhile.
      Math.floor(limits.maxBackpressureBytes / 2),
      bus,
      history?.policy,
    );
    const subscriptions = new Subscriptions(
      this.fanout,
      this.outbound,
      this.guard,
      limits.maxSubscriptions,
      this.recovery,
    );
    this.subDevices = new SubDevices(
      this.commands,
      this.presence,
      this.outbound,
      this.guard,
      metrics,
      limits.maxSubDevices,
      (conn, device, refused) => this.attachQueue.answered(conn, device, refused),
    );
    this.streams = new StreamRelay(
      this.fanout,
      this.subDevices,
      this.outbound,
      this.guard,
      metrics,
      limits,
    );
    this.states = deps.deviceState
      ? new DeviceStates(
          deps.deviceState,
          this.outbound,
          this.guard,
          this.fanout,
          this.commands,
          metrics,
          this.failures,
        )
      : undefined;
    this.dispatcher = new Dispatcher(
      publisher,
      subscriptions,
      this.commands,
      this.outbound,
      this.guard,
      this.subDevices,
      this.streams,
      this.states,
    );
    this.attachQueue = new AttachQueue(
      (conn, device) => this.subDevices.pending(conn, device),
      this.dispatcher,
      this.streams,
      metrics,
      logger,
    );
  }

  private sessionIds = 0;

  /** Session ids are unique on this node, whichever transport carries the session. */
  nextSessionId(): number {
    this.sessionIds += 1;
    return this.sessionIds;
  }

  get connectionCount(): number {
    return this.connections.size;
  }

  private waitingSockets = 0;

  /**
   * Sockets open without a session yet (an MQTT socket before its CONNECT is answered): they
   * count against the node's connections as sessions do, or a client without a token could
   * hold any number of them.
   */
  get socketsWaiting(): number {
    return this.waitingSockets;
  }

  socketWaiting(change: 1 | -1): void {
    this.waitingSockets += change;
  }

  /** Every open connection (drain closes them in slices). */
  openConnections(): Connection[] {
    return [...this.connections];
  }

  opened(conn: Connection): void {
    const { session } = conn;
    const { identity } = session;
    this.connections.add(conn);
    this.deps.metrics.connectionsOf.get(identity.role, conn.transport).inc();
    // `welcome` waits until the device is reachable from every node (its presence record names
    // this node): a client that has it can be sent commands at once; one new to a tenant at its
    // limit of devices gets none. The in-memory store answers within this callback's
    // microtasks, which uWS runs before it uncorks: the welcome still leaves with the upgrade's
    // answer, in one write (as a raw uWS server's).
    let registered: Promise<boolean> | undefined;
    if (isDeviceRole(identity)) {
      this.commands.attachDevice(conn);
      registered = this.presence.online({ tenant: identity.tenant, deviceId: identity.subject });
    }
    const expiresAt = this.expiresAt(session);
    if (expiresAt !== undefined) this.expiry.track(conn, expiresAt);
    const { logger } = this.deps;
    if (logger.isLevelEnabled('debug')) {
      logger.debug(
        {
          session: session.id,
          sub: identity.subject,
          role: identity.role,
          tenant: identity.tenant,
        },
        'connected',
      );
    }
    if (registered === undefined) this.welcome(conn);
    else {
      void registered.then((admitted) => {
        if (this.refuseUnlessAdmitted(conn, admitted)) this.welcome(conn);
      });
    }
  }

  /**
   * A device new to a tenant at its limit of devices is let go (no `offline` follows: nothing
   * said it was online) and its connection closed with 4003. False when refused.
   */
  private refuseUnlessAdmitted(conn: Connection, admitted: boolean): boolean {
    if (admitted) return true;
    conn.session.earlyFrames = undefined;
    this.commands.detachDevice(conn);
    if (!conn.session.closed) conn.end(CloseCode.DeviceLimit, CloseReason.DeviceLimit);
    return false;
  }

  private welcome(conn: Connection): void {
    const { session } = conn;
    const { identity } = session;
    this.outbound.send(conn, {
      type: 'welcome',
      sub: identity.subject,
      role: identity.role,
      tenant: identity.tenant,
      node: this.deps.nodeId,
      ...(session.format === undefined ? {} : { format: session.format }),
      limits: { ratePerSec: session.limits.ratePerSec, rateBurst: session.limits.rateBurst },
    });
    // Registered first (presence names this node), so a change made from now on reaches it.
    if (identity.role === 'device' && !session.closed) this.states?.connected(conn);
    const early = session.earlyFrames;
    session.earlyFrames = undefined;
    for (const handle of early?.handlers ?? []) {
      if (session.closed) break;
      handleHeldFrame(conn, this.deps.logger, handle);
    }
  }

  /** True until the connection's `welcome` went out (see holdUntilWelcome). */
  awaitingWelcome(conn: Connection): boolean {
    return conn.session.beforeWelcome !== undefined && !conn.session.closed;
  }

  /**
   * A frame that arrived before the connection's `welcome` (a device whose admission the
   * presence store has not answered yet) is kept, copied, and `handle`d with the copy right after
   * the welcome; a refused device's are dropped unread, so a device refused at its tenant's limit
   * has nothing taken. Bounded (a client that waits for `welcome` sends none): one more closes
   * the connection with 1008.
   */
  holdUntilWelcome(conn: Connection, data: ArrayBuffer, handle: (copy: ArrayBuffer) => void): void {
    const { session } = conn;
    const early = (session.earlyFrames ??= { handlers: [], bytes: 0 });
    early.bytes += data.byteLength;
    const { metrics } = this.deps;
    if (
      closedOverHeldBounds(conn, metrics, early.handlers.length, early.bytes, CloseReason.TooEarly)
    ) {
      session.earlyFrames = undefined;
      return;
    }
    const copy = data.slice(0);
    early.handlers.push(() => handle(copy));
  }

  closed(conn: Connection, code: number): void {
    const { session } = conn;
    session.closed = true;
    session.earlyFrames = undefined;
    session.attachWait = undefined;
    const expiresAt = this.expiresAt(session);
    if (expiresAt !== undefined) this.expiry.forget(conn, expiresAt);
    this.connections.delete(conn);
    this.fanout.release(conn);
    this.streams.closed(conn);
    this.subDevices.closed(conn);
    // A replaced connection leaves quietly: the device is still online elsewhere.
    const { identity } = session;
    if (isDeviceRole(identity) && this.commands.detachDevice(conn)) {
      this.presence.offline({ tenant: identity.tenant, deviceId: identity.subject });
    }
    this.commands.senderClosed(session);
    this.deps.metrics.connectionsOf.get(session.identity.role, conn.transport).dec();
    this.deps.metrics.disconnectsOf.get(closeCodeLabel(code), conn.transport).inc();
  }

  /** When the token's connection closes: the same skew the verifier allowed at connect time. */
  private expiresAt(session: Session): number | undefined {
    const { expiresAt } = session.identity;
    return expiresAt === undefined ? undefined : expiresAt + this.deps.clockToleranceSec * 1000;
  }

  /** Connections waiting for their token to expire (tests: none is left behind). */
  get expiringConnections(): number {
    return this.expiry.size;
  }

  /** Takes one inbound message from the connection's rate budget; false when refused. */
  admit(conn: Connection, now: number, cost = 1): boolean {
    return this.guard.admit(conn, now, cost);
  }

  /** A decoded, valid client message; `bytes`: its frame's size, as received. */
  received(conn: Connection, message: ClientMessage, received: number, bytes = 0): void {
    this.deps.metrics.messagesInOf.get(message.type, conn.transport).inc();
    if (this.attachQueue.message(conn, message, received, bytes)) return;
    this.dispatcher.dispatch(conn, message, received);
  }

  /** A binary stream chunk (packages/protocol stream-frame.ts), valid only during the call. */
  streamChunk(conn: Connection, frame: Uint8Array): void {
    this.deps.metrics.messagesInOf.get('stream_chunk', conn.transport).inc();
    if (this.attachQueue.chunk(conn, frame)) return;
    this.streams.chunk(conn, frame);
  }

  /** A message the transport could not decode or validate. */
  refused(conn: Connection, error: ProtocolError): void {
    this.deps.metrics.messagesInOf.get('invalid', conn.transport).inc();
    this.guard.refuse(conn, error);
  }

  start(): void {
    this.presence.start();
    this.rebalancer?.start();
  }

  /** Resolves once the presence writes asked for so far are done and their events published. */
  presenceSettled(): Promise<void> {
    return this.presence.settled();
  }

  /** Ends every wait and timer (the node is stopping). */
  stop(): void {
    this.presence.stop();
    this.expiry.close();
    this.fanout.history?.outbox.close();
    this.rebalancer?.stop();
    this.commands.close();
    this.gate.close();
    this.failures.flush();
  }
}

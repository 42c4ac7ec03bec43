import { setTimeout as delay } from 'node:timers/promises';

import type { TokenVerifier } from '@fleetwire/auth';
import { MemoryPresence, type Bus, type PresenceStore } from '@fleetwire/bus';
import { CloseCode, CloseReason } from '@fleetwire/protocol';
import type { DeviceStateStore } from '@fleetwire/store';
import type { Logger } from 'pino';
import type { TemplatedApp, us_listen_socket } from 'uWebSockets.js';

import type { EdgeConfig } from './config.js';
import type { Connection } from './core/connection.js';
import type { PresenceTracker } from './core/presence-tracker.js';
import type { Rebalancer } from './core/rebalancer.js';
import { SessionCore } from './core/session-core.js';
import { registerHttpApi } from './http-api.js';
import { methodNotAllowed, sendError } from './http-json.js';
import type { EdgeMetrics } from './metrics.js';
import { registerOpsRoutes } from './ops-routes.js';
import { registerStateRoutes } from './state-routes.js';
import { registerStaticFiles } from './static-files.js';
import type { TelemetrySink } from './telemetry-sink.js';
import { MQTT_DELIVERY_LANES } from './transports/mqtt/mqtt-delivery.js';
import { registerMqttTransport, type MqttTransport } from './transports/mqtt/mqtt-transport.js';
import { registerWsTransport } from './transports/ws/ws-transport.js';
import { UwsTopicDelivery } from './transports/uws-topic-delivery.js';
import { WS_DELIVERY_LANES } from './transports/ws/ws-delivery.js';
import type { Uws } from './uws.js';

export const EDGE_LISTEN_FAILED = 'EDGE_LISTEN_FAILED';

/** The port could not be bound (in use, or not allowed). */
export class EdgeListenError extends Error {
  override readonly name = 'EdgeListenError';
  readonly code = EDGE_LISTEN_FAILED;
}

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
  /**
   * Device state documents (PostgreSQL, PGlite embedded); without them `state.*` messages are
   * nacked and `/v1/devices/{id}/state` is not served.
   */
  deviceState?: DeviceStateStore;
  /** Shared presence records; defaults to an in-process store (single node). */
  presence?: PresenceStore;
  /**
   * Extra HTTP routes on the same port (the embedded mode mounts the telemetry read API here);
   * registered after the edge's own routes and before the dashboard files and the 404.
   */
  routes?: (app: TemplatedApp) => void;
  /**
   * What `/metrics` answers; default: this node's registry. A worker of a process answers the
   * sum over all the process's workers (workers/metrics-aggregate.ts).
   */
  metricsText?: () => Promise<string>;
}

/** How long a stopping node waits for the presence writes of its last connections. */
const PRESENCE_SETTLE_BOUND_MS = 3_000;
/**
 * One edge node: its lifecycle (listen, drain, close), readiness and the wiring of the session
 * core to its transports and HTTP routes. What happens to a connection is the core's
 * (`core/`); how bytes become messages is the transport's (`transports/`).
 */
export class EdgeServer {
  readonly app: TemplatedApp;
  private readonly core: SessionCore;
  /** One lane per encoding on the same uWS app: JSON and MessagePack (/ws), MQTT 3.1.1 and 5. */
  private readonly delivery: UwsTopicDelivery;
  private mqtt: MqttTransport | undefined;
  private listenSocket: us_listen_socket | undefined;
  private listeningPort = 0;
  private draining = false;

  constructor(private readonly deps: EdgeServerDeps) {
    const { config, uws, metrics, logger, bus } = deps;
    this.app = config.tls
      ? uws.SSLApp({
          cert_file_name: config.tls.certFile,
          key_file_name: config.tls.keyFile,
          ...(config.tls.passphrase ? { passphrase: config.tls.passphrase } : {}),
        })
      : uws.App();
    this.delivery = new UwsTopicDelivery(this.app, metrics, {
      ...WS_DELIVERY_LANES,
      ...(config.mqtt ? MQTT_DELIVERY_LANES : {}),
    });
    this.core = new SessionCore({
      nodeId: config.nodeId,
      limits: config.limits,
      clockToleranceSec: config.auth.clockToleranceSec,
      presenceTtlMs: config.presenceTtlMs,
      presence:
        deps.presence ??
        new MemoryPresence(config.presenceTtlMs, {
          maxDevicesPerTenant: config.maxDevicesPerTenant,
        }),
      metrics,
      logger,
      local: this.delivery,
      bus,
      history: config.history,
      telemetrySink: deps.telemetrySink,
      deviceState: deps.deviceState,
      accepting: () => !this.draining,
      rebalance: config.rebalance,
    });
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
    return this.core.connectionCount;
  }

  /** Ready to take new connections: see readiness(). */
  get ready(): boolean {
    return Object.values(this.readiness()).every(Boolean);
  }

  /**
   * Whether this node can take new connections: listening, not draining, under its connection
   * cap (and, in one process, its own store working). Remote dependencies (Redis, Kafka) are not
   * checks: they are shared by every node, so failing readiness on them would take the whole
   * fleet out of the load balancer at once; they are reported by dependencies() instead.
   */
  readiness(): Record<string, boolean> {
    const sink = this.deps.telemetrySink;
    return {
      listening: this.listenSocket !== undefined,
      accepting: !this.draining,
      capacity: this.core.connectionCount < this.deps.config.limits.maxConnections,
      ...(sink?.gatesReadiness ? { telemetryLog: sink.ready ?? true } : {}),
    };
  }

  /** Why the checks that fail are failing. */
  notReadyReasons(): Record<string, string> {
    const reasons: Record<string, string> = {};
    const checks = this.readiness();
    if (!checks['accepting']) reasons['accepting'] = 'draining';
    if (!checks['listening'] && !this.draining) reasons['listening'] = 'not listening';
    if (!checks['capacity']) reasons['capacity'] = 'at the maximum number of connections';
    const sink = this.deps.telemetrySink;
    if (checks['telemetryLog'] === false) {
      reasons['telemetryLog'] = sink?.notReadyBecause ?? 'not ready';
    }
    return reasons;
  }

  /** The state of each dependency, as /health and fleetwire_dependency_up report it. */
  dependencies(): Record<string, { up: boolean; reason?: string }> {
    const state = (up: boolean, reason: string | undefined) => ({
      up,
      ...(up || reason === undefined ? {} : { reason }),
    });
    const result: Record<string, { up: boolean; reason?: string }> = {};
    const { bus, telemetrySink } = this.deps;
    if (bus) result['redis'] = state(bus.ready, 'Redis unreachable: cross-node delivery paused');
    if (telemetrySink) {
      const name = telemetrySink.gatesReadiness ? 'store' : 'kafka';
      result[name] = state(telemetrySink.ready ?? true, telemetrySink.notReadyBecause);
    }
    const states = this.core.states?.health();
    if (states) result['state_store'] = state(states.up, states.reason);
    return result;
  }

  /** The rebalancer when FLEETWIRE_REBALANCE is on, for tests that drive it by hand. */
  get rebalancer(): Rebalancer | undefined {
    return this.core.rebalancer;
  }

  /** The presence tracker, for tests that drive its renewal by hand. */
  get presenceTracker(): PresenceTracker {
    return this.core.presence;
  }

  /** The open connections, for tests that check what a connection holds. */
  openConnections(): readonly Connection[] {
    return this.core.openConnections();
  }

  /** Connections waiting for their token to expire (one node-wide timer): tests. */
  get expiringConnections(): number {
    return this.core.expiringConnections;
  }

  /** Internal state sizes, for tests and debugging: all zero once every client left. */
  stateSizes(): {
    sockets: number;
    patterns: number;
    devices: number;
    pendingCommands: number;
    recoveries: number;
    streamBudgets: number;
  } {
    let streamBudgets = 0;
    for (const conn of this.core.openConnections()) {
      streamBudgets += conn.session.streamBudgets?.size ?? 0;
    }
    return {
      sockets: this.core.connectionCount,
      patterns: this.core.fanout.patternCount,
      devices: this.core.commands.deviceCount,
      pendingCommands: this.core.commands.pendingCount,
      recoveries: this.core.recovery.pending,
      streamBudgets,
    };
  }

  listen(): Promise<number> {
    const { host, port } = this.deps.config;
    return new Promise((resolve, reject) => {
      this.app.listen(host, port, (socket) => {
        if (!socket) {
          reject(new EdgeListenError(`edge: cannot listen on ${host}:${port}`));
          return;
        }
        this.listenSocket = socket;
        this.listeningPort = this.deps.uws.us_socket_local_port(socket);
        this.core.start();
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
    const connections = this.core.openConnections();
    this.deps.logger.info({ connections: connections.length, windowMs }, 'draining');
    const tickMs = 10;
    const ticks = Math.max(1, Math.floor(windowMs / tickMs));
    const perTick = Math.ceil(connections.length / ticks);
    for (let i = 0; i < connections.length; i += perTick) {
      for (const conn of connections.slice(i, i + perTick)) {
        conn.end(CloseCode.ServiceRestart, CloseReason.Draining);
      }
      if (i + perTick < connections.length) await delay(tickMs);
    }
    this.mqtt?.stop();
    await this.deps.telemetrySink?.flush();
    await this.presenceSettled();
    this.core.stop();
    this.deps.logger.info('drained');
  }

  /**
   * Resolves once the presence writes of the connections closed so far are answered and their
   * offline events handed to the bus (the adapters may close then), or after 3 s (a bound for
   * shutdown, under the 5 s a worker supervisor gives the siblings of a worker that died).
   */
  async presenceSettled(): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const bound = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, PRESENCE_SETTLE_BOUND_MS);
    });
    await Promise.race([this.core.presenceSettled(), bound]);
    clearTimeout(timer);
  }

  /**
   * Immediate stop, then the wait for what the closed connections still owe (their presence
   * writes and offline events, bounded as in presenceSettled): the adapters may close then.
   */
  async closeNow(): Promise<void> {
    this.close();
    await this.presenceSettled();
  }

  /** Immediate stop: no new connections, every socket closed at once. */
  close(): void {
    this.draining = true;
    this.stopListening();
    this.mqtt?.stop();
    this.core.stop();
    for (const conn of this.core.openConnections()) {
      conn.end(CloseCode.ServiceRestart, CloseReason.Draining);
    }
  }

  private stopListening(): void {
    if (this.listenSocket) this.deps.uws.us_listen_socket_close(this.listenSocket);
    this.listenSocket = undefined;
  }

  private routes(): void {
    const { config, uws, metrics, logger } = this.deps;
    registerWsTransport(this.app, {
      uws,
      core: this.core,
      held: this.delivery,
      verifier: this.deps.verifier,
      limits: config.limits,
      metrics,
      logger,
      accepting: () => !this.draining,
    });
    if (config.mqtt) {
      this.mqtt = registerMqttTransport(this.app, {
        uws,
        core: this.core,
        held: this.delivery,
        verifier: this.deps.verifier,
        limits: config.limits,
        settings: config.mqtt,
        metrics,
        logger,
        accepting: () => !this.draining,
      });
    }
    registerOpsRoutes(this.app, {
      metrics,
      logger,
      readiness: () => this.readiness(),
      reasons: () => this.notReadyReasons(),
      dependencies: () => this.dependencies(),
      draining: () => this.draining,
      ...(this.deps.metricsText ? { metricsText: this.deps.metricsText } : {}),
    });
    registerHttpApi(this.app, {
      verifier: this.deps.verifier,
      commands: this.core.commands,
      presence: this.core.presence,
      metrics,
      logger,
      decodeLimits: config.limits.decode,
    });
    if (this.core.states) {
      registerStateRoutes(this.app, {
        verifier: this.deps.verifier,
        states: this.core.states,
        metrics,
        logger,
        decodeLimits: config.limits.decode,
      });
    }
    this.deps.routes?.(this.app);
    registerStaticFiles(this.app, { dir: config.dashboardDir, logger });
    // HEAD is answered on the health routes only; a body here would break the framing.
    this.app.head('/*', methodNotAllowed(metrics.httpRefusals, 'GET'));
    this.app.any('/*', (res, req) => {
      metrics.httpRefusals.inc({ reason: 'not_found' });
      sendError(res, 'not_found', `no route ${req.getUrl()}`);
    });
  }
}

import {
  Counter,
  DependencyUpGauge,
  Gauge,
  Histogram,
  LATENCY_BUCKETS_SECONDS,
  type Registry,
} from '@fleetwire/metrics';

import { ChildCache } from './metric-children.js';

type CounterChild = ReturnType<Counter['labels']>;
type GaugeChild = ReturnType<Gauge['labels']>;

/**
 * A close code as a label: the standard ones (RFC 6455 §7.4.1, 1000–1015) and the 4000–4099
 * range as they are, any other a client picks as `other` (a series per code would be unbounded).
 */
export function closeCodeLabel(code: number): string {
  return (code >= 1000 && code <= 1015) || (code >= 4000 && code <= 4099) ? String(code) : 'other';
}

/** The edge's series; docs in services/edge/README.md. */
export class EdgeMetrics {
  /** By kind and transport: once per message, in and out. */
  readonly messagesInOf = new ChildCache<CounterChild>((kind, transport) =>
    this.messagesIn.labels(kind, transport),
  );
  readonly messagesOutOf = new ChildCache<CounterChild>((kind, transport) =>
    this.messagesOut.labels(kind, transport),
  );
  /** By transport. */
  readonly bytesInOf = new ChildCache<CounterChild>((transport) => this.bytesIn.labels(transport));
  readonly bytesOutOf = new ChildCache<CounterChild>((transport) =>
    this.bytesOut.labels(transport),
  );
  /** By role and transport: once per connect and per close. */
  readonly connectionsOf = new ChildCache<GaugeChild>((role, transport) =>
    this.connections.labels(role, transport),
  );
  /** By close code and transport. */
  readonly disconnectsOf = new ChildCache<CounterChild>((code, transport) =>
    this.disconnects.labels(code, transport),
  );

  readonly connections: Gauge<'role' | 'transport'>;
  readonly messagesIn: Counter<'kind' | 'transport'>;
  readonly messagesOut: Counter<'kind' | 'transport'>;
  readonly bytesIn: Counter<'transport'>;
  readonly bytesOut: Counter<'transport'>;
  readonly authFailures: Counter<'reason'>;
  readonly upgradeRefusals: Counter<'reason'>;
  readonly protocolErrors: Counter<'code'>;
  readonly httpRefusals: Counter<'reason'>;
  readonly socketCuts: Counter<'reason'>;
  readonly nodeMessagesDropped: Counter<'reason'>;
  readonly rateLimited: Counter;
  readonly disconnects: Counter<'code' | 'transport'>;
  readonly deliverLatency: Histogram<'path'>;
  readonly busUndelivered: Counter;
  readonly busReady: Gauge;
  readonly dependencyFailures: Counter<'dependency' | 'operation'>;
  readonly busOutbox: Gauge;
  readonly busOutboxDropped: Counter;
  readonly gaps: Counter<'reason'>;
  readonly recoveries: Counter<'result'>;
  readonly recoveredMessages: Counter;
  readonly telemetryNacks: Counter<'reason'>;
  readonly backpressureDrops: Counter;
  readonly commands: Counter<'outcome'>;
  readonly mqttConnectRefusals: Counter<'reason'>;
  readonly telemetryAckLatency: Histogram;
  readonly stateChanges: Counter<'section'>;
  readonly stateConflicts: Counter;
  readonly stateBusy: Counter;
  readonly dependencyUp: DependencyUpGauge;
  readonly rebalanceShed: Counter;
  readonly subDevices: Gauge;
  readonly streamsOpen: Gauge;
  readonly streamChunksOut: Counter;
  readonly streamDrops: Counter<'reason'>;

  constructor(readonly registry: Registry) {
    const registers = [registry];
    this.dependencyUp = new DependencyUpGauge(registry);
    this.connections = new Gauge({
      name: 'fleetwire_edge_connections',
      help: 'Open WebSocket connections by role',
      labelNames: ['role', 'transport'],
      registers,
    });
    this.messagesIn = new Counter({
      name: 'fleetwire_edge_messages_in_total',
      help: 'Messages received from clients by kind (invalid ones under kind="invalid")',
      labelNames: ['kind', 'transport'],
      registers,
    });
    this.messagesOut = new Counter({
      name: 'fleetwire_edge_messages_out_total',
      help: 'Messages sent to clients by kind; one per receiving socket',
      labelNames: ['kind', 'transport'],
      registers,
    });
    this.bytesIn = new Counter({
      name: 'fleetwire_edge_bytes_in_total',
      help: 'WebSocket payload bytes received, by transport (ws: JSON/MessagePack on /ws, mqtt: MQTT on /mqtt)',
      labelNames: ['transport'],
      registers,
    });
    this.bytesOut = new Counter({
      name: 'fleetwire_edge_bytes_out_total',
      help: 'WebSocket payload bytes sent (per receiving socket, before compression), by transport (ws, mqtt)',
      labelNames: ['transport'],
      registers,
    });
    this.authFailures = new Counter({
      name: 'fleetwire_edge_auth_failures_total',
      help: 'Upgrades refused because of the token, by reason',
      labelNames: ['reason'],
      registers,
    });
    this.upgradeRefusals = new Counter({
      name: 'fleetwire_edge_upgrade_refusals_total',
      help: 'Upgrades refused for reasons other than the token (bad handshake, full, draining)',
      labelNames: ['reason'],
      registers,
    });
    this.protocolErrors = new Counter({
      name: 'fleetwire_edge_protocol_errors_total',
      help: 'Client messages answered with an error, by error code',
      labelNames: ['code'],
      registers,
    });
    this.httpRefusals = new Counter({
      name: 'fleetwire_edge_http_refusals_total',
      help: 'HTTP requests refused (4xx), by the error code answered (bad_request, limit_exceeded, body_too_large, forbidden, role_not_allowed, invalid_parameter, not_found, …)',
      labelNames: ['reason'],
      registers,
    });
    this.socketCuts = new Counter({
      name: 'fleetwire_edge_socket_cuts_total',
      help: 'Connections uWS ended itself without a close frame (1006), by reason: invalid_utf8 (a text frame), too_big (over FLEETWIRE_OVERSIZE_CLOSE_BYTES), inflation',
      labelNames: ['reason'],
      registers,
    });
    this.nodeMessagesDropped = new Counter({
      name: 'fleetwire_edge_node_messages_dropped_total',
      help: 'Messages from other nodes dropped unprocessed, by reason: undecodable, invalid, unknown_kind, newer_version',
      labelNames: ['reason'],
      registers,
    });
    this.rateLimited = new Counter({
      name: 'fleetwire_edge_rate_limited_total',
      help: 'Client messages dropped by the per-connection rate limit',
      registers,
    });
    this.disconnects = new Counter({
      name: 'fleetwire_edge_disconnects_total',
      help: 'Closed connections by WebSocket close code',
      labelNames: ['code', 'transport'],
      registers,
    });
    this.deliverLatency = new Histogram({
      name: 'fleetwire_edge_publish_deliver_latency_seconds',
      help: 'From a published frame arriving to its delivery being handed to the subscribers’ sockets; path=local (same node) or remote (through the bus)',
      labelNames: ['path'],
      buckets: LATENCY_BUCKETS_SECONDS,
      registers,
    });
    this.busUndelivered = new Counter({
      name: 'fleetwire_edge_bus_undelivered_total',
      help: 'Publishes that could not cross to other nodes because the bus (Redis) was unavailable',
      registers,
    });
    this.busOutbox = new Gauge({
      name: 'fleetwire_edge_bus_outbox_messages',
      help: 'History mode: publishes waiting to be appended to the bus (Redis away or slow)',
      registers,
    });
    this.busOutboxDropped = new Counter({
      name: 'fleetwire_edge_bus_outbox_dropped_total',
      help: 'History mode: publishes dropped because the bus outbox was full; each is covered by a gap notice',
      registers,
    });
    this.gaps = new Counter({
      name: 'fleetwire_edge_gaps_total',
      help: 'Gap notices written to subscribers, by reason (bus_unavailable: this node lost the bus; outbox_full: a publishing node dropped)',
      labelNames: ['reason'],
      registers,
    });
    this.recoveries = new Counter({
      name: 'fleetwire_edge_recoveries_total',
      help: 'Subscriptions with a position, by result (recovered, expired, epoch_changed, too_many, history_disabled, unavailable)',
      labelNames: ['result'],
      registers,
    });
    this.recoveredMessages = new Counter({
      name: 'fleetwire_edge_recovered_messages_total',
      help: 'Missed messages sent to resuming subscribers from history',
      registers,
    });
    this.busReady = new Gauge({
      name: 'fleetwire_edge_bus_ready',
      help: '1 while the bus (Redis) connection is up and subscribed, else 0',
      registers,
    });
    this.dependencyFailures = new Counter({
      name: 'fleetwire_edge_dependency_failures_total',
      help: 'Operations on a dependency that failed (bus and presence: Redis; store: the device state database), by the operation; logged once per interval with the count',
      labelNames: ['dependency', 'operation'],
      registers,
    });
    this.telemetryNacks = new Counter({
      name: 'fleetwire_edge_telemetry_nacks_total',
      help: 'Telemetry messages answered with nack, by reason (retry: the telemetry log did not take it)',
      labelNames: ['reason'],
      registers,
    });
    this.backpressureDrops = new Counter({
      name: 'fleetwire_edge_backpressure_drops_total',
      help: 'Direct messages (acks, errors, commands) dropped because the socket was over its backpressure limit',
      registers,
    });
    this.commands = new Counter({
      name: 'fleetwire_edge_commands_total',
      help: 'Commands by outcome: delivered, acked, nacked, offline, timeout, duplicate',
      labelNames: ['outcome'],
      registers,
    });
    this.rebalanceShed = new Counter({
      name: 'fleetwire_edge_rebalance_shed_total',
      help: 'Connections closed with 1012 because this node held far more than its share (FLEETWIRE_REBALANCE)',
      registers,
    });
    this.mqttConnectRefusals = new Counter({
      name: 'fleetwire_edge_mqtt_connect_refusals_total',
      help: 'MQTT CONNECTs answered with a refusing CONNACK, by reason (bad_credentials, not_authorized, client_id_rejected, unsupported_version, server_unavailable, server_busy, bad_auth_method, bad_will, qos_not_supported, retain_not_supported)',
      labelNames: ['reason'],
      registers,
    });
    this.subDevices = new Gauge({
      name: 'fleetwire_edge_subdevices',
      help: 'Sub-devices attached by the gateways connected to this node',
      registers,
    });
    this.streamsOpen = new Gauge({
      name: 'fleetwire_edge_streams_open',
      help: 'Binary streams open on this node (devices and gateways sending)',
      registers,
    });
    this.streamChunksOut = new Counter({
      name: 'fleetwire_edge_stream_chunks_out_total',
      help: 'Binary stream chunks written to listeners; one per receiving socket',
      registers,
    });
    this.streamDrops = new Counter({
      name: 'fleetwire_edge_stream_chunks_dropped_total',
      help: 'Binary stream chunks dropped: rate_limited (the device over its byte rate), slow_listener (a listener behind by more than the stream budget)',
      labelNames: ['reason'],
      registers,
    });
    this.telemetryAckLatency = new Histogram({
      name: 'fleetwire_edge_telemetry_ack_seconds',
      help: 'From a telemetry frame with an id arriving to its ack being written (with a log: once the log kept it)',
      buckets: LATENCY_BUCKETS_SECONDS,
      registers,
    });
    this.stateChanges = new Counter({
      name: 'fleetwire_edge_state_changes_total',
      help: 'Device state changes written, by section (desired: state.set and PATCH; reported: state.report)',
      labelNames: ['section'],
      registers,
    });
    this.stateConflicts = new Counter({
      name: 'fleetwire_edge_state_conflicts_total',
      help: 'Desired-state changes refused because the document was no longer at the version named (409/412, nack conflict)',
      registers,
    });
    this.stateBusy = new Counter({
      name: 'fleetwire_edge_state_busy_total',
      help: 'Device state operations refused because their tenant had its maximum in flight on this node (503 state_busy, nack retry)',
      registers,
    });
  }
}

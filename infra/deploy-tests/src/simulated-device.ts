import { EventEmitter, once } from 'node:events';

import { FleetSocket, type ServerMessage } from './fleet-socket.js';

export interface SimulatedDeviceOptions {
  id: string;
  url: string;
  ca: string;
  /** A fresh token per connection attempt. */
  token: () => string;
  /** Delay before reconnecting after a lost connection (a real device backs off with jitter). */
  reconnectDelayMs: number;
}

/**
 * A device as the protocol asks it to behave: telemetry with ids, kept until acked and sent again
 * (same id) after a reconnect or a `nack` `retry`; commands answered with `ack`; reconnects when
 * its connection is lost. Emits `connected` (node id) and `acked` (message id).
 */
export class SimulatedDevice extends EventEmitter {
  readonly id: string;
  /** The node of each connection, in order (from `welcome.node`). */
  readonly nodes: string[] = [];
  /** Close codes of the connections that ended without the device asking. */
  readonly lostWith: number[] = [];
  /** Every telemetry id sent, in order, and those the edge acked. */
  readonly sent: string[] = [];
  readonly acked = new Set<string>();
  /** Commands received (ids). */
  readonly commands: string[] = [];
  private readonly pending = new Map<string, Record<string, unknown>>();
  private socket: FleetSocket | undefined;
  private seq = 0;
  private stopped = false;

  constructor(private readonly options: SimulatedDeviceOptions) {
    super();
    this.id = options.id;
  }

  /** Connects and resolves with the node that welcomed it. */
  async connect(): Promise<string> {
    const socket = new FleetSocket({
      url: this.options.url,
      token: this.options.token(),
      ca: this.options.ca,
    });
    this.socket = socket;
    // Registered before the welcome is awaited: a command may follow it in the same read.
    socket.onMessage((message) => this.handle(socket, message));
    const welcome = await socket.welcome;
    const node = String(welcome['node']);
    this.nodes.push(node);
    void socket.closed.then(({ code }) => this.onClosed(socket, code));
    // What was sent and never acked is sent again: the edge may or may not have kept it.
    for (const [id, data] of this.pending) socket.send({ type: 'telemetry', id, data });
    this.emit('connected', node);
    return node;
  }

  get node(): string | undefined {
    return this.nodes.at(-1);
  }

  get unacked(): number {
    return this.pending.size;
  }

  /** Sends one telemetry message now if connected, else on the next connection. */
  sendTelemetry(data: Record<string, unknown>): string {
    const id = `${this.id}-m${++this.seq}`;
    this.sent.push(id);
    this.pending.set(id, data);
    if (this.socket?.open) this.socket.send({ type: 'telemetry', id, data });
    return id;
  }

  /** Resolves once every message sent so far is acked. */
  async allAcked(): Promise<void> {
    while (this.pending.size > 0) await once(this, 'acked');
  }

  /** Resolves once the device is connected to a node other than `node`. */
  async movedAwayFrom(node: string): Promise<string> {
    while (this.node === node || !this.socket?.open) await once(this, 'connected');
    return this.node as string;
  }

  async close(): Promise<void> {
    this.stopped = true;
    await this.socket?.close();
  }

  private handle(socket: FleetSocket, message: ServerMessage): void {
    const id = typeof message['id'] === 'string' ? message['id'] : undefined;
    if (message.type === 'ack' && id && this.pending.delete(id)) {
      this.acked.add(id);
      this.emit('acked', id);
    } else if (message.type === 'nack' && id && this.pending.has(id)) {
      // `retry`: Kafka did not take it; same id again after a pause.
      const data = this.pending.get(id);
      setTimeout(() => {
        if (socket.open && this.pending.has(id)) socket.send({ type: 'telemetry', id, data });
      }, 200);
    } else if (message.type === 'command' && id) {
      this.commands.push(id);
      socket.send({ type: 'ack', id, result: { device: this.id, name: message['name'] } });
    }
  }

  private onClosed(socket: FleetSocket, code: number): void {
    if (this.stopped || this.socket !== socket) return;
    this.lostWith.push(code);
    this.reconnect();
  }

  private reconnect(): void {
    setTimeout(() => {
      if (this.stopped) return;
      // A failed attempt (the balancer had no node for it yet) is retried the same way.
      this.connect().catch(() => this.reconnect());
    }, this.options.reconnectDelayMs);
  }
}

// Longer than the house limit on purpose: connecting, resending and the heartbeat share one
// connection's state (socket, awaiting acks, queue, attempt count), and splitting them would pass
// that state around. The parts that stand alone live beside it (backoff, heartbeat, ids, types).
import { decode, encode } from '@msgpack/msgpack';
import { decodeRelayFrame, isStreamFrame } from '@fleetwire/protocol/stream-frame';
import type {
  DeviceStateDocument,
  ServerCommandMessage,
  ServerMessage,
  StateMessage,
  WelcomeMessage,
} from '@fleetwire/protocol';

import { DEFAULT_BACKOFF, backoffDelay, type BackoffOptions } from './backoff.js';
import { Emitter } from './emitter.js';
import { FleetwireClientError } from './errors.js';
import type { ClientChannel } from './channel.js';
import { DeviceStream, type StreamOptions } from './device-stream.js';
import { Heartbeat } from './heartbeat.js';
import { newId } from './message-id.js';
import { DEFAULT_RATE_LIMIT, Pacer, type RateLimit } from './pacer.js';
import { Positions } from './positions.js';
import { SubDevice } from './sub-device.js';
import type {
  ClientEvents,
  CommandHandler,
  ConnectionState,
  DesiredHandler,
  FleetwireClientOptions,
  WebSocketConstructor,
  WebSocketLike,
} from './types.js';

interface Outgoing {
  id: string;
  frame: Record<string, unknown>;
  resolve: (result: unknown) => void;
  reject: (error: FleetwireClientError) => void;
  /** Resent until acked; false for fire-and-forget and for commands (answered once). */
  resend: boolean;
  sentAt?: number;
  timer?: ReturnType<typeof setTimeout>;
  /** Waiting in the pacer: a resend due meanwhile is not queued a second time. */
  paced?: boolean;
}

const OPEN = 1;

/**
 * One connection to Fleetwire, kept alive: reconnects with full-jitter backoff, fetches a fresh
 * token for every attempt, resubscribes, and resends every message with an id until the server
 * acks it (the message keeps its id and first-send time, so the server stores it once).
 */
export class FleetwireClient extends Emitter<ClientEvents> {
  private ws: WebSocketLike | undefined;
  private state_: ConnectionState = 'disconnected';
  private attempt = 0;
  private readonly patterns = new Set<string>();
  /** Where each subscription is, to resume it after a reconnect. */
  private readonly positions = new Positions();
  /** The id of the subscribe a reconnect sent, and its patterns (settling until acked). */
  private resuming: { id: string; patterns: string[] } | undefined;
  /** Waiting for an ack or nack, by id, in send order. */
  private readonly awaiting = new Map<string, Outgoing>();
  /** Fire-and-forget frames written while offline. */
  private offline: Record<string, unknown>[] = [];
  private readonly commandHandlers = new Map<string, CommandHandler>();
  /** A gateway's sub-devices, by id; attached again after every reconnect. */
  private readonly subDevices = new Map<string, SubDevice>();
  /** Streams this connection sends, by channel; opened again after every reconnect. */
  private readonly streams = new Map<number, DeviceStream>();
  private readonly desiredHandlers: DesiredHandler[] = [];
  private reconnectTimer: ReturnType<typeof setTimeout> | undefined;
  private readonly heartbeat: Heartbeat;
  /** Every frame but stream chunks goes out through it, under the edge's message rate. */
  private readonly pacer: Pacer;
  /** The token a 4001 close said is expired: the same one again means wait, not retry at once. */
  private expiredToken: string | undefined;
  private lastToken: string | undefined;
  private readonly options: Required<
    Omit<FleetwireClientOptions, 'backoff' | 'WebSocket' | 'rateLimit'>
  > & {
    backoff: BackoffOptions;
    WebSocket: WebSocketConstructor;
    rateLimit: RateLimit;
  };

  constructor(options: FleetwireClientOptions) {
    super();
    const WS = options.WebSocket ?? (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
    if (!WS)
      throw new Error(
        'no WebSocket implementation: pass one (e.g. the `ws` package) as options.WebSocket',
      );
    this.options = {
      format: 'json',
      queueLimit: 1000,
      ackTimeoutMs: 10_000,
      heartbeatMs: 20_000,
      random: Math.random,
      ...options,
      backoff: { ...DEFAULT_BACKOFF, ...options.backoff },
      WebSocket: WS,
      rateLimit: options.rateLimit ?? DEFAULT_RATE_LIMIT,
    };
    this.pacer = new Pacer((frame) => this.writeNow(frame));
    this.heartbeat = new Heartbeat(
      this.options.heartbeatMs,
      () => this.write({ type: 'ping' }, true),
      () => this.heartbeatLost(),
    );
  }

  get state(): ConnectionState {
    return this.state_;
  }

  /** The last position delivered for a subscription (what a reconnect resumes from). */
  positionOf(pattern: string): string | undefined {
    return this.positions.get(pattern);
  }

  /**
   * Messages sent and not yet acked, plus fire-and-forget ones waiting for a connection or for
   * their turn under the edge's rate limit.
   */
  get queued(): number {
    return this.awaiting.size + this.offline.length + this.pacer.loose;
  }

  /** Starts connecting; resolves at the first `welcome`. */
  connect(): Promise<WelcomeMessage> {
    if (this.state_ === 'closed')
      return Promise.reject(new FleetwireClientError('CLIENT_CLOSED', 'client closed'));
    const welcome = this.once('welcome');
    if (this.state_ === 'disconnected' && !this.ws) void this.open();
    return welcome;
  }

  /** Closes for good: nothing is resent, waiting promises reject with CLIENT_CLOSED. */
  close(): void {
    this.end(new FleetwireClientError('CLIENT_CLOSED', 'client closed before the ack'));
  }

  /** Ends for good, rejecting whatever still waits with `why`. */
  private end(why: FleetwireClientError): void {
    this.setState('closed');
    clearTimeout(this.reconnectTimer);
    this.heartbeat.stop();
    const ws = this.ws;
    this.ws = undefined;
    ws?.close(1000, 'client closed');
    this.pacer.clear();
    for (const out of this.awaiting.values()) {
      clearTimeout(out.timer);
      out.reject(why);
    }
    this.awaiting.clear();
    this.offline = [];
  }

  async subscribe(patterns: string[]): Promise<void> {
    for (const p of patterns) this.patterns.add(p);
    await this.request({ type: 'subscribe', topics: patterns }, false);
  }

  async unsubscribe(patterns: string[]): Promise<void> {
    for (const p of patterns) {
      this.patterns.delete(p);
      this.positions.forget(p);
    }
    await this.request({ type: 'unsubscribe', topics: patterns }, false);
  }

  /**
   * Telemetry of this device. With `id` (or `reliable: true`, which makes one) it is sent until
   * the server acked it, and the promise resolves then; without, it is fire-and-forget.
   */
  telemetry(
    data: Record<string, unknown>,
    options: { id?: string; stream?: string; reliable?: boolean } = {},
  ): Promise<void> {
    const frame: Record<string, unknown> = {
      type: 'telemetry',
      ts: Date.now(),
      data,
      ...(options.stream ? { stream: options.stream } : {}),
    };
    if (options.id === undefined && !options.reliable) return this.fireAndForget(frame);
    return this.request({ ...frame, id: options.id ?? newId() }, true).then(() => undefined);
  }

  event(name: string, data: Record<string, unknown> = {}): Promise<void> {
    return this.fireAndForget({ type: 'event', name, data });
  }

  status(data: Record<string, unknown>): Promise<void> {
    return this.fireAndForget({ type: 'status', data });
  }

  publish(topic: string, data: unknown): Promise<void> {
    return this.request({ type: 'publish', topic, data }, true).then(() => undefined);
  }

  /** Sends a command to a device; resolves with its ack's result, rejects with its nack. */
  command(
    target: string,
    name: string,
    params?: unknown,
    options: { timeoutMs?: number } = {},
  ): Promise<unknown> {
    return this.request(
      {
        type: 'command',
        target,
        name,
        ...(params === undefined ? {} : { params }),
        ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
      },
      false,
    );
  }

  /**
   * Handles commands named `name` (or `*` for any). The handler's return value is the ack's
   * result; a throw becomes a nack with reason `rejected` and the error's message.
   */
  onCommand(name: string, handler: CommandHandler): void {
    this.commandHandlers.set(name, handler);
  }

  /**
   * A gateway speaks for one of the devices its token names: attaches it (see
   * `SubDevice.attached`) and returns the handle its messages and commands go through.
   */
  subDevice(id: string): SubDevice {
    const existing = this.subDevices.get(id);
    if (existing?.isAttached) return existing;
    const device = new SubDevice(
      this.channel(),
      id,
      (options) => this.openStream(options.name, options),
      () => this.subDevices.delete(id),
    );
    this.subDevices.set(id, device);
    return device;
  }

  /**
   * Opens a binary stream `devices/<id>/streams/<name>` of this device (or of `device`, a
   * gateway's attached sub-device). Resolves once the edge opened it. Listeners get its chunks
   * through the `chunk` event.
   */
  async openStream(
    name: string,
    options: StreamOptions & { device?: string } = {},
  ): Promise<DeviceStream> {
    let id = 1;
    while (this.streams.has(id)) id += 1;
    if (id > 255) throw new FleetwireClientError('QUEUE_FULL', 'at most 255 streams');
    const opening = {
      type: 'stream_open',
      channel: id,
      name,
      ...(options.device === undefined ? {} : { device: options.device }),
      ...(options.meta === undefined ? {} : { meta: options.meta }),
    };
    const stream = new DeviceStream(this.channel(), id, name, opening, () =>
      this.streams.delete(id),
    );
    this.streams.set(id, stream);
    try {
      await this.request(opening, false);
    } catch (error) {
      this.streams.delete(id);
      throw error;
    }
    return stream;
  }

  private channel(): ClientChannel {
    return {
      request: (frame, resend) => this.request(frame, resend),
      fireAndForget: (frame) => this.fireAndForget(frame),
      sendBinary: (bytes) => {
        const ws = this.ws;
        if (this.state_ !== 'connected' || !ws || ws.readyState !== OPEN) return false;
        ws.send(bytes);
        return true;
      },
      bufferedAmount: () => this.ws?.bufferedAmount ?? 0,
    };
  }

  /**
   * Device: called with every desired-state change the server sends (on connect when something is
   * pending, and whenever `desired` changes). `delta` is what differs from what was reported; do
   * it, then `report` what the device now has, which closes the delta.
   */
  onDesired(handler: DesiredHandler): void {
    this.desiredHandlers.push(handler);
  }

  /** Device: reports state it has (a patch: named keys replaced, `null` removes one). Resent until acked. */
  report(reported: Record<string, unknown>): Promise<void> {
    return this.request({ type: 'state.report', reported }, true).then(() => undefined);
  }

  /**
   * Dashboard or service: sets desired state of a device (a patch). With `version`, only if the
   * document is still at it: otherwise rejects with a NACKED error whose reason is `conflict`.
   * Resolves with the document after the change.
   */
  async setDesired(
    deviceId: string,
    desired: Record<string, unknown>,
    options: { version?: number } = {},
  ): Promise<DeviceStateDocument> {
    const frame = {
      type: 'state.set',
      target: deviceId,
      desired,
      ...(options.version === undefined ? {} : { version: options.version }),
    };
    return (await this.request(frame, false)) as DeviceStateDocument;
  }

  /** Dashboard or service: a device's state document. */
  async getState(deviceId: string): Promise<DeviceStateDocument> {
    return (await this.request(
      { type: 'state.get', target: deviceId },
      false,
    )) as DeviceStateDocument;
  }

  private request(frame: Record<string, unknown>, resend: boolean): Promise<unknown> {
    if (this.state_ === 'closed')
      return Promise.reject(new FleetwireClientError('CLIENT_CLOSED', 'client closed'));
    if (this.queued >= this.options.queueLimit) {
      return Promise.reject(
        new FleetwireClientError('QUEUE_FULL', `${this.queued} messages already queued`),
      );
    }
    const id = (frame['id'] as string | undefined) ?? newId();
    return new Promise((resolve, reject) => {
      const out: Outgoing = { id, frame: { ...frame, id }, resolve, reject, resend };
      this.awaiting.set(id, out);
      if (this.state_ === 'connected') this.transmit(out);
    });
  }

  private fireAndForget(frame: Record<string, unknown>): Promise<void> {
    if (this.state_ === 'closed')
      return Promise.reject(new FleetwireClientError('CLIENT_CLOSED', 'client closed'));
    if (this.queued >= this.options.queueLimit) {
      return Promise.reject(
        new FleetwireClientError('QUEUE_FULL', `${this.queued} messages already queued`),
      );
    }
    if (this.state_ === 'connected' && this.ws?.readyState === OPEN) {
      this.pacer.send({ frame, loose: true });
      return Promise.resolve();
    }
    this.offline.push(frame);
    return Promise.resolve();
  }

  /**
   * Sends a message that waits for its answer, through the pacer; one waiting for its turn there
   * is not queued twice. Its resend timer starts once it is written, not while it waits.
   */
  private transmit(out: Outgoing): void {
    const ws = this.ws;
    if (out.paced || !ws || ws.readyState !== OPEN) return;
    out.paced = true;
    clearTimeout(out.timer);
    this.pacer.send({
      frame: out.frame,
      wanted: () => this.awaiting.get(out.id) === out,
      sent: () => {
        out.paced = false;
        out.sentAt = Date.now();
        if (!out.resend) return;
        out.timer = setTimeout(() => {
          if (this.state_ === 'connected' && this.awaiting.has(out.id)) this.transmit(out);
        }, this.options.ackTimeoutMs);
      },
    });
  }

  /** A frame of the protocol's own (ping, subscribe, attach, answers): paced, urgent ones first. */
  private write(frame: Record<string, unknown>, urgent = false): void {
    const ws = this.ws;
    if (!ws || ws.readyState !== OPEN) return;
    this.pacer.send({ frame }, urgent);
  }

  private writeNow(frame: Record<string, unknown>): void {
    const ws = this.ws;
    if (!ws || ws.readyState !== OPEN) return;
    ws.send(this.options.format === 'msgpack' ? encode(frame) : JSON.stringify(frame));
  }

  private async open(): Promise<void> {
    this.setState('connecting');
    let token: string;
    try {
      token =
        typeof this.options.token === 'function' ? await this.options.token() : this.options.token;
    } catch {
      this.scheduleReconnect();
      return;
    }
    if (this.state_ === 'closed') return;
    if (token === this.expiredToken) {
      // The provider has nothing fresher yet: back off instead of looping on a dead token.
      this.scheduleReconnect();
      return;
    }
    this.lastToken = token;
    const protocol = this.options.format === 'msgpack' ? 'fleetwire.v1.msgpack' : 'fleetwire.v1';
    // The token rides in Sec-WebSocket-Protocol: browsers cannot set an Authorization header,
    // and a query string would end up in access logs.
    const ws = new this.options.WebSocket(this.options.url, [protocol, `bearer.${token}`]);
    ws.binaryType = 'arraybuffer';
    this.ws = ws;
    ws.onmessage = (event) => {
      if (this.ws === ws) this.receive(event.data);
    };
    ws.onclose = (event) => {
      if (this.ws === ws) this.closed(event.code, event.reason);
    };
    ws.onerror = () => {
      // A close follows every error; reconnection is decided there.
    };
  }

  private receive(data: unknown): void {
    if (typeof data !== 'string') {
      const bytes = data instanceof ArrayBuffer ? new Uint8Array(data) : (data as Uint8Array);
      if (isStreamFrame(bytes)) {
        this.heartbeat.heard();
        try {
          this.emit('chunk', decodeRelayFrame(bytes));
        } catch {
          // Not a frame this SDK reads (a newer relay version): ignored, as unknown kinds are.
        }
        return;
      }
    }
    let message: ServerMessage;
    try {
      message = (
        typeof data === 'string'
          ? JSON.parse(data)
          : decode(data instanceof ArrayBuffer ? new Uint8Array(data) : (data as Uint8Array))
      ) as ServerMessage;
    } catch {
      return;
    }
    this.heartbeat.heard();
    switch (message.type) {
      case 'welcome':
        this.attempt = 0;
        // The edge's bucket for this connection starts full; ours too, at what it announced.
        this.pacer.reset(validLimit(message.limits) ?? this.options.rateLimit);
        this.setState('connected');
        this.heartbeat.start();
        this.resume();
        this.emit('welcome', message);
        return;
      case 'message':
        this.positions.seen(message, this.patterns);
        this.emit('message', message);
        return;
      case 'recovery':
        if (message.recovered) {
          this.emit('recovered', { topic: message.topic, count: message.count });
        } else {
          const { topic, from, to, reason } = message;
          this.emit('gap', { topic, from, to, reason });
        }
        return;
      case 'gap': {
        this.positions.seen(message, this.patterns);
        const { topic, from, to, reason } = message;
        this.emit('gap', { topic, from, to, reason });
        return;
      }
      case 'command':
        this.emit('command', message);
        void this.answer(message);
        return;
      case 'ack':
      case 'nack': {
        if (this.resuming?.id === message.id) {
          this.positions.settled(this.resuming.patterns);
          this.resuming = undefined;
          return;
        }
        const out = this.awaiting.get(message.id);
        if (!out) return;
        if (message.type === 'nack' && message.reason === 'retry' && out.resend) {
          // The server could not keep it yet: the ack timer sends it again.
          return;
        }
        clearTimeout(out.timer);
        this.awaiting.delete(message.id);
        if (message.type === 'ack') out.resolve(message.result);
        else
          out.reject(
            new FleetwireClientError(
              'NACKED',
              message.message ?? `nack: ${message.reason}`,
              message.reason,
            ),
          );
        return;
      }
      case 'error': {
        this.emit('serverError', message);
        const out = message.ref === undefined ? undefined : this.awaiting.get(message.ref);
        if (out) {
          clearTimeout(out.timer);
          this.awaiting.delete(out.id);
          out.reject(new FleetwireClientError('SERVER_ERROR', message.message, message.code));
        }
        return;
      }
      case 'detached':
        this.subDevices.get(message.device)?.markDetached();
        this.emit('detached', message);
        return;
      case 'pong':
        return;
      case 'state':
        this.emit('desired', message);
        this.desired(message);
        return;
    }
  }

  private desired(message: StateMessage): void {
    for (const handler of this.desiredHandlers) {
      try {
        void Promise.resolve(handler(message.desired, message.delta, message.version)).catch(
          () => undefined,
        );
      } catch {
        // A throwing handler must not stop the others or the connection.
      }
    }
  }

  /**
   * After a (re)connect: subscriptions first, each from its last position (the server sends
   * what it missed, or a `gap` range), then everything unacked in order, then the rest.
   */
  private resume(): void {
    if (this.patterns.size > 0) {
      const topics = [...this.patterns];
      const since = this.positions.since(topics);
      const id = newId();
      this.resuming = { id, patterns: topics };
      this.positions.settlingFrom(topics);
      this.write({ type: 'subscribe', id, topics, ...(since ? { since } : {}) });
    }
    // Sub-devices and streams before anything that may speak for them.
    for (const device of this.subDevices.values()) {
      this.write({ type: 'attach', device: device.id });
    }
    for (const stream of this.streams.values()) this.write(stream.opening);
    for (const out of this.awaiting.values()) this.transmit(out);
    const offline = this.offline;
    this.offline = [];
    for (const frame of offline) this.pacer.send({ frame, loose: true });
  }

  private async answer(command: ServerCommandMessage): Promise<void> {
    // A gateway's command for a sub-device goes to that sub-device's handlers, answered for it.
    const handlers =
      command.device === undefined
        ? this.commandHandlers
        : this.subDevices.get(command.device)?.handlers;
    const handler = handlers?.get(command.name) ?? handlers?.get('*');
    if (!handler) return;
    const device = command.device === undefined ? {} : { device: command.device };
    try {
      const result = await handler(command);
      // Answers go before a backlog: the command's sender is waiting, with a timeout.
      this.write(
        { type: 'ack', id: command.id, ...device, ...(result === undefined ? {} : { result }) },
        true,
      );
    } catch (error) {
      this.write(
        {
          type: 'nack',
          id: command.id,
          ...device,
          reason: 'rejected',
          message: (error as Error).message,
        },
        true,
      );
    }
  }

  private closed(code: number, reason: string): void {
    this.ws = undefined;
    this.resuming = undefined;
    this.heartbeat.stop();
    // Unsent: what waits for an answer is resent after the reconnect anyway, fire-and-forget
    // frames go back to the offline queue, ahead of newer ones; the protocol's own are redone.
    const unsent = this.pacer.clear();
    this.offline.unshift(...unsent.filter((p) => p.loose).map((p) => p.frame));
    for (const out of this.awaiting.values()) out.paced = false;
    this.emit('close', { code, reason });
    if (this.state_ === 'closed') return;
    // Commands are answered once: a lost connection loses their answer.
    for (const out of [...this.awaiting.values()]) {
      if (out.resend || out.frame['type'] !== 'command') continue;
      this.awaiting.delete(out.id);
      out.reject(
        new FleetwireClientError('NACKED', 'connection lost before the answer', 'offline'),
      );
    }
    if (code === 4002) {
      // Another connection with our identity took over: coming back would evict it in turn.
      this.end(new FleetwireClientError('REPLACED', 'replaced by a newer connection'));
      return;
    }
    // New to a tenant at its limit of devices (4003): only an operator can change that, so the
    // next try waits as long as any retry may.
    if (code === 4003) this.attempt = Math.max(this.attempt, 30);
    this.setState('disconnected');
    // An expired token (4001) is no reason to wait: the provider gives a fresh one now.
    if (code === 4001) {
      this.expiredToken = this.lastToken;
      void this.open();
      return;
    }
    this.scheduleReconnect();
  }

  private scheduleReconnect(): void {
    if (this.state_ === 'closed') return;
    this.setState('disconnected');
    const delay = backoffDelay(this.attempt, this.options.backoff, this.options.random);
    this.attempt += 1;
    clearTimeout(this.reconnectTimer);
    this.reconnectTimer = setTimeout(() => void this.open(), delay);
  }

  /** Nothing came back for a whole heartbeat: a close handshake would wait on the dead peer. */
  private heartbeatLost(): void {
    const dead = this.ws;
    if (!dead) return;
    dead.onclose = null;
    dead.onmessage = null;
    dead.close(4000, 'heartbeat timeout');
    this.closed(4000, 'heartbeat timeout');
  }

  private setState(state: ConnectionState): void {
    if (this.state_ === state || this.state_ === 'closed') return;
    this.state_ = state;
    this.emit('state', state);
  }
}

/** The limits a `welcome` announced, if they are usable numbers (an older edge sends none). */
function validLimit(limits: unknown): RateLimit | undefined {
  if (typeof limits !== 'object' || limits === null) return undefined;
  const { ratePerSec, rateBurst } = limits as Record<string, unknown>;
  if (typeof ratePerSec !== 'number' || typeof rateBurst !== 'number') return undefined;
  if (!(ratePerSec > 0) || !(rateBurst >= 1) || !Number.isFinite(ratePerSec + rateBurst))
    return undefined;
  return { ratePerSec, rateBurst };
}

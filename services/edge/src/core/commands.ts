// Longer than the house limit on purpose: commands waited on here and commands forwarded for
// senders on other nodes share the per-device maps that make an id unique cluster-wide, and
// every exit (answer, timeout, device gone, device moved) must clear both in one place.
import {
  deviceRefKey,
  parseDeviceRef,
  type Bus,
  type DeviceRef,
  type HeldDevice,
} from '@fleetwire/bus';
import {
  CloseCode,
  CloseReason,
  NackReason,
  type ClientMessage,
  type ServerCommandMessage,
  type ServerMessage,
} from '@fleetwire/protocol';

import type { EdgeMetrics } from '../metrics.js';
import type { Connection } from './connection.js';
import type { DependencyFailures } from './dependency-failures.js';
import { DeviceCommands } from './device-commands.js';
import type { NodeMessageGate } from './node-message-gate.js';
import {
  decodeInboxMessage,
  encodeInboxMessage,
  inbox,
  remoteCommand,
  type CommandReply,
  type InboxMessage,
  type RemoteCommand,
  type RemoteState,
} from './node-messages.js';

export type { CommandReply } from './node-messages.js';
export type CommandRequest = Extract<ClientMessage, { type: 'command' }>;
type Answer = Extract<ClientMessage, { type: 'ack' | 'nack' }>;
export type SendFn = (conn: Connection, message: ServerMessage) => void;
/** The node a device's presence record names (undefined: offline or unknown). */
export type LocateFn = (device: DeviceRef) => Promise<string | undefined>;

/** Who sent a command: where its one ack or nack goes, and what ends the wait early. */
export interface CommandSender {
  subject: string;
  tenant: string;
  reply: (answer: CommandReply) => void;
  /** A closed sender's waits are dropped: nobody is left to tell. */
  owner: object;
}

interface PendingCommand {
  key: string;
  id: string;
  sender: CommandSender;
  timer: NodeJS.Timeout;
  /** When it was handed to the device's socket on this node (a delivery sequence number). */
  delivered?: number;
}

/** A command this node delivered to its device for a sender on another node. */
interface ForwardedCommand {
  replyTo: string;
  timer: NodeJS.Timeout;
  delivered: number;
}

/**
 * Commands from dashboards and services to devices, wherever each is connected. Every command
 * ends in exactly one ack or nack to its sender: the device's, `offline` (nobody holds the
 * device, or it left before answering), `timeout`, or `retry` (the bus or presence was
 * unavailable).
 *
 * Routing: a command for a device held elsewhere goes to the inbox of the node its presence
 * record names (one inbox per node, not one per device). A node that no longer holds the device
 * when the command arrives (it moved meanwhile) looks it up once more and forwards it once.
 */
export class CommandRouter {
  private readonly devices = new Map<string, Connection>();
  /** Commands waited on here, by device key (`tenant/id`) and id. */
  private readonly pending = new DeviceCommands<PendingCommand>();
  /** Commands this node delivered for a sender elsewhere, by device key and id. */
  private readonly remote = new DeviceCommands<ForwardedCommand>();
  /** The commands waited on here by each sender (its `owner`), for when it goes away. */
  private readonly bySender = new Map<object, Set<PendingCommand>>();
  private senderVisits = 0;
  /** Where desired-state changes for a device held here go (DeviceStates). */
  private stateHandler: ((device: Connection, state: RemoteState) => void) | undefined;
  /** Orders commands handed to devices here: an answer without id takes the oldest. */
  private deliveries = 0;

  constructor(
    private readonly send: SendFn,
    private readonly metrics: EdgeMetrics,
    private readonly defaultTimeoutMs: number,
    private readonly gate: NodeMessageGate,
    private readonly failures: DependencyFailures,
    private readonly bus?: Bus,
    private readonly locate: LocateFn = async () => undefined,
  ) {
    if (bus) {
      bus.onInboxMessage((name, payload) => this.fromInbox(name, payload));
      bus.listen(inbox.node(bus.nodeId)).catch((error: unknown) => this.busFailed(error));
    }
  }

  get deviceCount(): number {
    return this.devices.size;
  }

  get pendingCount(): number {
    return this.pending.size + this.remote.size;
  }

  /**
   * Pending and forwarded commands looked at by a device's release or answer and by a sender's
   * close, since the start: tests check that this work is the device's or sender's own.
   */
  get visitedCommands(): number {
    return this.pending.visited + this.remote.visited + this.senderVisits;
  }

  /** The devices connected here, sub-devices with their gateway. */
  localDevices(): HeldDevice[] {
    return [...this.devices.entries()].map(([key, conn]) => {
      const device = parseDeviceRef(key);
      const { subject } = conn.session.identity;
      return device.deviceId === subject ? device : { ...device, gateway: subject };
    });
  }

  /** The connection of a device held by this node, by device key (`tenant/id`). */
  localDevice(key: string): Connection | undefined {
    return this.devices.get(key);
  }

  /** Desired-state changes that arrive from other nodes are handed to `handler`. */
  onDeviceState(handler: (device: Connection, state: RemoteState) => void): void {
    this.stateHandler = handler;
  }

  /**
   * Registers a device's socket here. A previous connection of the same device on this node is
   * closed (4002); one on another node is told by `takeOver` once presence names that node.
   * `deviceId`: a sub-device a gateway's connection speaks for (the connection's own by default).
   */
  attachDevice(conn: Connection, deviceId = conn.session.identity.subject): void {
    const key = deviceRefKey({ tenant: conn.session.identity.tenant, deviceId });
    const previous = this.devices.get(key);
    this.devices.set(key, conn);
    if (previous && previous !== conn) this.letGo(previous, deviceId);
  }

  /**
   * The device connected here while its presence record named `node`: that node closes its old
   * connection (4002), or detaches it from its gateway. Resolves once sent; never rejects.
   */
  takeOver(node: string, device: DeviceRef): Promise<void> {
    if (!this.bus || node === this.bus.nodeId) return Promise.resolve();
    const message: InboxMessage = {
      type: 'takeover',
      node: this.bus.nodeId,
      to: deviceRefKey(device),
    };
    return this.bus.send(inbox.node(node), encodeInboxMessage(message)).then(
      () => undefined,
      (error: unknown) => this.busFailed(error),
    );
  }

  /**
   * A desired-state change for a device held on another node, sent to it; nothing when no node
   * holds the device (it reads the delta when it connects).
   */
  relayState(key: string, state: Omit<RemoteState, 'to'>): void {
    const bus = this.bus;
    if (!bus) return;
    this.locate(parseDeviceRef(key)).then(
      (node) => {
        if (node === undefined || node === bus.nodeId) return;
        const message: RemoteState = { ...state, to: key };
        bus
          .send(inbox.node(node), encodeInboxMessage(message))
          .catch((error: unknown) => this.failures.failed('bus', 'device state', error));
      },
      (error: unknown) => this.failures.failed('presence', 'device state', error),
    );
  }

  /** Returns false when the socket was no longer the device's (it had been replaced). */
  detachDevice(conn: Connection, deviceId = conn.session.identity.subject): boolean {
    const key = deviceRefKey({ tenant: conn.session.identity.tenant, deviceId });
    if (this.devices.get(key) !== conn) return false;
    this.release(key);
    return true;
  }

  /**
   * A device's connection that another took over: closed (4002), unless it is a gateway that
   * spoke for the device, which keeps its connection and its other sub-devices and is told.
   */
  private letGo(conn: Connection, deviceId: string): void {
    if (conn.session.identity.subject === deviceId) {
      conn.end(CloseCode.SessionReplaced, CloseReason.SessionReplaced);
      return;
    }
    if (conn.session.subDevices?.delete(deviceId)) this.metrics.subDevices.dec();
    this.send(conn, { type: 'detached', device: deviceId, reason: 'replaced' });
  }

  /** A command as the device's connection gets it: a gateway's names the sub-device. */
  private forward(conn: Connection, key: string, command: ServerCommandMessage): void {
    const { deviceId } = parseDeviceRef(key);
    this.send(
      conn,
      deviceId === conn.session.identity.subject ? command : { ...command, device: deviceId },
    );
  }

  /** Forgets the device's socket here and answers what waited on it with nack offline. */
  private release(key: string): void {
    this.devices.delete(key);
    const gone = 'the device disconnected before answering';
    for (const [id, command] of this.pending.takeAll(key)) {
      clearTimeout(command.timer);
      this.unindexSender(command);
      this.metrics.commands.inc({ outcome: 'offline' });
      command.sender.reply({ type: 'nack', id, reason: NackReason.Offline, message: gone });
    }
    for (const [id, command] of this.remote.takeAll(key)) {
      clearTimeout(command.timer);
      this.answerRemote(command.replyTo, key, {
        type: 'nack',
        id,
        reason: NackReason.Offline,
        message: gone,
      });
    }
  }

  /** A dashboard, service or HTTP caller sends `command` to a device of its tenant. */
  dispatch(sender: CommandSender, command: CommandRequest): void {
    const key = deviceRefKey({ tenant: sender.tenant, deviceId: command.target });
    const device = this.devices.get(key);
    if (!device && !this.bus) {
      this.metrics.commands.inc({ outcome: 'offline' });
      sender.reply({ type: 'nack', id: command.id, reason: NackReason.Offline });
      return;
    }
    // Ids are unique per device while pending, whichever node's sender used them first.
    if (this.pending.has(key, command.id) || this.remote.has(key, command.id)) {
      this.metrics.commands.inc({ outcome: 'duplicate' });
      sender.reply({
        type: 'nack',
        id: command.id,
        reason: NackReason.Invalid,
        message: `command ${command.id} is already pending for ${command.target}`,
      });
      return;
    }
    const timeoutMs = command.timeoutMs ?? this.defaultTimeoutMs;
    this.wait(key, command.id, sender, timeoutMs, device ? ++this.deliveries : undefined);
    const forDevice: ServerCommandMessage = {
      type: 'command',
      id: command.id,
      from: sender.subject,
      name: command.name,
      ...(command.params === undefined ? {} : { params: command.params }),
    };
    if (device) {
      this.metrics.commands.inc({ outcome: 'delivered' });
      this.forward(device, key, forDevice);
      return;
    }
    const bus = this.bus as Bus;
    const message = remoteCommand(forDevice, bus.nodeId, timeoutMs, key);
    const fail = (outcome: string, reason: NackReason, text?: string): void => {
      const waiting = this.take(key, command.id);
      if (!waiting) return;
      this.metrics.commands.inc({ outcome });
      waiting.sender.reply({
        type: 'nack',
        id: command.id,
        reason,
        ...(text === undefined ? {} : { message: text }),
      });
    };
    this.locate(parseDeviceRef(key)).then(
      (node) => {
        // The record naming this node, which does not hold the device: it just left.
        if (node === undefined || node === bus.nodeId) {
          fail('offline', NackReason.Offline);
          return;
        }
        bus.send(inbox.node(node), encodeInboxMessage(message)).then(
          (receivers) => {
            // Nobody listening: the node the record names is dead, its devices are offline.
            if (receivers > 0) this.metrics.commands.inc({ outcome: 'delivered' });
            else fail('offline', NackReason.Offline);
          },
          (error: unknown) => {
            this.busFailed(error);
            fail('bus_unavailable', NackReason.Retry, 'the cluster bus is unavailable');
          },
        );
      },
      (error: unknown) => {
        this.failures.failed('presence', 'commands', error);
        fail('presence_unavailable', NackReason.Retry, 'presence is unavailable');
      },
    );
  }

  /**
   * A device answers a command with ack or nack; late or unknown answers are dropped. An answer
   * without id answers the oldest command handed to the device on this node and not yet
   * answered; false when there is none (the caller tells the device). A gateway answers for
   * `deviceId`, one of its sub-devices.
   */
  answer(conn: Connection, answer: Answer, deviceId = conn.session.identity.subject): boolean {
    const key = deviceRefKey({ tenant: conn.session.identity.tenant, deviceId });
    const id = answer.id ?? this.oldestDelivered(key);
    if (id === undefined) return false;
    const reply: CommandReply =
      answer.type === 'ack'
        ? {
            type: 'ack',
            id,
            ...(answer.result === undefined ? {} : { result: answer.result }),
          }
        : {
            type: 'nack',
            id,
            reason: answer.reason,
            ...(answer.message === undefined ? {} : { message: answer.message }),
          };
    const remote = this.remote.take(key, id);
    if (remote) {
      clearTimeout(remote.timer);
      this.answerRemote(remote.replyTo, key, reply);
      return true;
    }
    this.deliverAnswer(key, reply);
    return true;
  }

  /** The id of the command the device got first of those still waiting for its answer. */
  private oldestDelivered(key: string): string | undefined {
    let oldest: { id: string; delivered: number } | undefined;
    const consider = (id: string, delivered: number | undefined): void => {
      if (delivered !== undefined && (!oldest || delivered < oldest.delivered)) {
        oldest = { id, delivered };
      }
    };
    for (const [id, command] of this.pending.of(key)) consider(id, command.delivered);
    for (const [id, command] of this.remote.of(key)) consider(id, command.delivered);
    return oldest?.id;
  }

  /** Drops the waits of a sender that went away. */
  senderClosed(owner: object): void {
    const commands = this.bySender.get(owner);
    if (!commands) return;
    this.bySender.delete(owner);
    for (const command of commands) {
      this.senderVisits += 1;
      clearTimeout(command.timer);
      this.pending.take(command.key, command.id);
    }
  }

  /** Ends every wait (shutdown). */
  close(): void {
    for (const c of this.pending.values()) clearTimeout(c.timer);
    for (const c of this.remote.values()) clearTimeout(c.timer);
    this.pending.clear();
    this.remote.clear();
    this.bySender.clear();
  }

  private wait(
    key: string,
    id: string,
    sender: CommandSender,
    timeoutMs: number,
    delivered: number | undefined,
  ): void {
    const timer = setTimeout(() => {
      if (!this.take(key, id)) return;
      this.metrics.commands.inc({ outcome: 'timeout' });
      sender.reply({ type: 'nack', id, reason: NackReason.Timeout });
    }, timeoutMs);
    const command: PendingCommand = {
      key,
      id,
      sender,
      timer,
      ...(delivered === undefined ? {} : { delivered }),
    };
    this.pending.set(key, id, command);
    let ofSender = this.bySender.get(sender.owner);
    if (!ofSender) {
      ofSender = new Set();
      this.bySender.set(sender.owner, ofSender);
    }
    ofSender.add(command);
  }

  private take(key: string, id: string): PendingCommand | undefined {
    const command = this.pending.take(key, id);
    if (!command) return undefined;
    clearTimeout(command.timer);
    this.unindexSender(command);
    return command;
  }

  private unindexSender(command: PendingCommand): void {
    const ofSender = this.bySender.get(command.sender.owner);
    if (!ofSender?.delete(command)) return;
    if (ofSender.size === 0) this.bySender.delete(command.sender.owner);
  }

  private fromInbox(name: string, payload: Buffer): void {
    // Tenant-wide gaps are the fan-out's (fanout.ts).
    if (name === inbox.gaps) return;
    const message = this.gate.accept(() => decodeInboxMessage(payload), name);
    if (!message) return;
    switch (message.type) {
      case 'command':
        this.commandFromNode(message);
        return;
      case 'takeover':
        if (message.to !== undefined && message.node !== this.bus?.nodeId) {
          this.takenOver(message.to, message.node);
        }
        return;
      case 'answer':
        this.deliverAnswer(message.device, message.answer);
        return;
      case 'state': {
        const held = this.devices.get(message.to);
        if (held) this.stateHandler?.(held, message);
        return;
      }
      default:
        // Unreachable: decodeInboxMessage drops unknown kinds (they are counted there).
        return;
    }
  }

  private commandFromNode(message: RemoteCommand): void {
    const { replyTo, timeoutMs, to: key, hops: _hops, v: _version, ...command } = message;
    const device = this.devices.get(key);
    if (!device) {
      this.reroute(message);
      return;
    }
    if (this.remote.has(key, command.id) || this.pending.has(key, command.id)) {
      // Another sender's command with this id still waits for the device: answering either
      // would hand one sender the other's result.
      this.metrics.commands.inc({ outcome: 'duplicate' });
      this.answerRemote(replyTo, key, {
        type: 'nack',
        id: command.id,
        reason: NackReason.Invalid,
        message: `command ${command.id} is already pending for ${parseDeviceRef(key).deviceId}`,
      });
      return;
    }
    // The sender times out on its own; this only bounds how long this node remembers.
    const timer = setTimeout(() => this.remote.take(key, command.id), timeoutMs + 1_000);
    this.remote.set(key, command.id, { replyTo, timer, delivered: ++this.deliveries });
    this.forward(device, key, { ...command, type: 'command' });
  }

  /**
   * A command for a device that left this node between the sender's look-up and the command's
   * arrival: sent on once to the node presence names now; `offline` when there is none, it is
   * this node, or the command was sent on once already.
   */
  private reroute(message: RemoteCommand): void {
    const { replyTo, to: key, id } = message;
    const offline = (): void =>
      this.answerRemote(replyTo, key, { type: 'nack', id, reason: NackReason.Offline });
    const bus = this.bus;
    if (!bus || (message.hops ?? 0) >= 1) {
      offline();
      return;
    }
    this.locate(parseDeviceRef(key)).then(
      (node) => {
        if (node === undefined || node === bus.nodeId) {
          offline();
          return;
        }
        this.metrics.commands.inc({ outcome: 'rerouted' });
        bus.send(inbox.node(node), encodeInboxMessage({ ...message, hops: 1 })).then(
          (receivers) => {
            if (receivers === 0) offline();
          },
          (error: unknown) => {
            this.busFailed(error);
            this.answerRemote(replyTo, key, {
              type: 'nack',
              id,
              reason: NackReason.Retry,
              message: 'the cluster bus is unavailable',
            });
          },
        );
      },
      (error: unknown) => {
        this.failures.failed('presence', 'commands', error);
        this.answerRemote(replyTo, key, {
          type: 'nack',
          id,
          reason: NackReason.Retry,
          message: 'presence is unavailable',
        });
      },
    );
  }

  /**
   * Node `by` took the device over. Its takeover may come late, so the record decides: only
   * while it names `by` is the connection here the old one. If the device has come back to this
   * node since, the record names this node (this node's write was sent before the look-up, on
   * the same connection); if it reads offline (`by` lost the device again, or its write failed),
   * closing would leave the device with no connection at all, and 4002 tells the SDK not to
   * reconnect.
   */
  private takenOver(key: string, by: string): void {
    if (!this.devices.has(key)) return;
    const { tenant, deviceId } = parseDeviceRef(key);
    this.locate({ tenant, deviceId }).then(
      (node) => {
        if (node === by) this.moved(tenant, deviceId);
      },
      (error: unknown) => {
        // Presence unreadable: the message is the best knowledge there is.
        this.failures.failed('presence', 'takeover', error);
        this.moved(tenant, deviceId);
      },
    );
  }

  /**
   * The device connected to another node. Released first, so closing the old socket is quiet:
   * the device is not offline, it moved.
   */
  moved(tenant: string, deviceId: string): void {
    const key = deviceRefKey({ tenant, deviceId });
    const device = this.devices.get(key);
    if (!device) return;
    this.release(key);
    this.letGo(device, deviceId);
  }

  /** Hands a device's answer to the sender waiting on this node, if any still is. */
  private deliverAnswer(key: string, answer: CommandReply): void {
    const command = this.take(key, answer.id);
    if (!command) {
      this.metrics.commands.inc({ outcome: 'unmatched_answer' });
      return;
    }
    this.metrics.commands.inc({ outcome: answer.type === 'ack' ? 'acked' : 'nacked' });
    command.sender.reply(answer);
  }

  private answerRemote(node: string, device: string, answer: CommandReply): void {
    const message: InboxMessage = { type: 'answer', device, answer };
    this.bus
      ?.send(inbox.node(node), encodeInboxMessage(message))
      .catch((error: unknown) => this.busFailed(error));
  }

  private busFailed(error: unknown): void {
    this.failures.failed('bus', 'commands', error);
  }
}

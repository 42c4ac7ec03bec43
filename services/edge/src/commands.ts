import {
  CloseCode,
  CloseReason,
  NackReason,
  type ClientMessage,
  type ServerMessage,
} from '@fleetwire/protocol';

import type { EdgeMetrics } from './metrics.js';
import { deviceKey, type EdgeSocket, type Session } from './session.js';

type Command = Extract<ClientMessage, { type: 'command' }>;
type Answer = Extract<ClientMessage, { type: 'ack' | 'nack' }>;
export type SendFn = (ws: EdgeSocket, session: Session, message: ServerMessage) => void;

interface PendingCommand {
  sender: EdgeSocket;
  senderSession: Session;
  timer: NodeJS.Timeout;
}

/**
 * Commands between the connections of this node: which socket holds each device, and which
 * commands wait for the device's ack. Every command ends in exactly one ack or nack to its sender.
 */
export class CommandRouter {
  private readonly devices = new Map<string, EdgeSocket>();
  /** deviceKey → command id → pending command. */
  private readonly pending = new Map<string, Map<string, PendingCommand>>();

  constructor(
    private readonly send: SendFn,
    private readonly metrics: EdgeMetrics,
    private readonly defaultTimeoutMs: number,
  ) {}

  get deviceCount(): number {
    return this.devices.size;
  }

  get pendingCount(): number {
    let count = 0;
    for (const byId of this.pending.values()) count += byId.size;
    return count;
  }

  /** Registers a device's socket; a previous socket of the same device is closed (4002). */
  attachDevice(ws: EdgeSocket, session: Session): void {
    const key = deviceKey(session.identity.tenant, session.identity.subject);
    const previous = this.devices.get(key);
    this.devices.set(key, ws);
    if (previous && !previous.getUserData().closed) {
      previous.end(CloseCode.SessionReplaced, CloseReason.SessionReplaced);
    }
  }

  detachDevice(ws: EdgeSocket, session: Session): void {
    const key = deviceKey(session.identity.tenant, session.identity.subject);
    if (this.devices.get(key) !== ws) return;
    this.devices.delete(key);
    const waiting = this.pending.get(key);
    if (!waiting) return;
    this.pending.delete(key);
    for (const [id, command] of waiting) {
      clearTimeout(command.timer);
      this.metrics.commands.inc({ outcome: 'offline' });
      this.send(command.sender, command.senderSession, {
        type: 'nack',
        id,
        reason: NackReason.Offline,
        message: 'the device disconnected before answering',
      });
    }
  }

  /** A dashboard or service sends `command` to a device of its tenant. */
  dispatch(ws: EdgeSocket, session: Session, command: Command): void {
    const key = deviceKey(session.identity.tenant, command.target);
    const device = this.devices.get(key);
    if (!device) {
      this.metrics.commands.inc({ outcome: 'offline' });
      this.send(ws, session, { type: 'nack', id: command.id, reason: NackReason.Offline });
      return;
    }
    let waiting = this.pending.get(key);
    if (waiting?.has(command.id)) {
      this.metrics.commands.inc({ outcome: 'duplicate' });
      this.send(ws, session, {
        type: 'nack',
        id: command.id,
        reason: NackReason.Invalid,
        message: `command ${command.id} is already pending for ${command.target}`,
      });
      return;
    }
    if (!waiting) {
      waiting = new Map();
      this.pending.set(key, waiting);
    }
    const timeoutMs = command.timeoutMs ?? this.defaultTimeoutMs;
    const timer = setTimeout(() => {
      if (!this.take(key, command.id)) return;
      this.metrics.commands.inc({ outcome: 'timeout' });
      this.send(ws, session, { type: 'nack', id: command.id, reason: NackReason.Timeout });
    }, timeoutMs);
    waiting.set(command.id, { sender: ws, senderSession: session, timer });
    this.metrics.commands.inc({ outcome: 'delivered' });
    this.send(device, device.getUserData(), {
      type: 'command',
      id: command.id,
      from: session.identity.subject,
      name: command.name,
      ...(command.params === undefined ? {} : { params: command.params }),
    });
  }

  /** A device answers a command with ack or nack; late or unknown answers are dropped. */
  answer(session: Session, answer: Answer): void {
    const key = deviceKey(session.identity.tenant, session.identity.subject);
    const command = this.take(key, answer.id);
    if (!command) {
      this.metrics.commands.inc({ outcome: 'unmatched_answer' });
      return;
    }
    this.metrics.commands.inc({ outcome: answer.type === 'ack' ? 'acked' : 'nacked' });
    this.send(
      command.sender,
      command.senderSession,
      answer.type === 'ack'
        ? {
            type: 'ack',
            id: answer.id,
            ...(answer.result === undefined ? {} : { result: answer.result }),
          }
        : {
            type: 'nack',
            id: answer.id,
            reason: answer.reason,
            ...(answer.message === undefined ? {} : { message: answer.message }),
          },
    );
  }

  /** Drops the waits of a sender that disconnected: nobody is left to tell. */
  senderClosed(session: Session): void {
    for (const [key, waiting] of this.pending) {
      for (const [id, command] of waiting) {
        if (command.senderSession !== session) continue;
        clearTimeout(command.timer);
        waiting.delete(id);
      }
      if (waiting.size === 0) this.pending.delete(key);
    }
  }

  private take(key: string, id: string): PendingCommand | undefined {
    const waiting = this.pending.get(key);
    const command = waiting?.get(id);
    if (!waiting || !command) return undefined;
    clearTimeout(command.timer);
    waiting.delete(id);
    if (waiting.size === 0) this.pending.delete(key);
    return command;
  }
}

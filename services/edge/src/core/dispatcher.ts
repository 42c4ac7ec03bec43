import { coversDevice, isDeviceRole } from '@fleetwire/auth';
import { ErrorCode, NackReason, ProtocolError, type ClientMessage } from '@fleetwire/protocol';

import type { AbuseGuard } from './abuse-guard.js';
import type { CommandRouter, CommandSender } from './commands.js';
import type { Connection } from './connection.js';
import type { DeviceStates } from './device-states.js';
import type { Outbound } from './outbound.js';
import type { Publisher } from './publisher.js';
import type { StreamRelay } from './streams.js';
import type { SubDevices } from './sub-devices.js';
import type { Subscriptions } from './subscriptions.js';

/** Who may send what: each client message goes to its handler, or is refused for the role. */
export class Dispatcher {
  constructor(
    private readonly publisher: Publisher,
    private readonly subscriptions: Subscriptions,
    private readonly commands: CommandRouter,
    private readonly outbound: Outbound,
    private readonly guard: AbuseGuard,
    private readonly subDevices: SubDevices,
    private readonly streams: StreamRelay,
    /** Absent when this node keeps no device state (no database configured). */
    private readonly states?: DeviceStates,
  ) {}

  dispatch(conn: Connection, message: ClientMessage, received: number): void {
    const { identity } = conn.session;
    switch (message.type) {
      case 'telemetry':
      case 'event':
      case 'status': {
        if (!isDeviceRole(identity)) {
          return this.notAllowed(conn, `only devices send ${message.type}`, message.id);
        }
        const speaker = this.subDevices.speaker(conn, message.device, message.id);
        if (speaker === undefined) return;
        return this.publisher.publish(conn, message, received, speaker);
      }
      case 'publish':
        return this.publisher.publish(conn, message, received);
      case 'subscribe':
        return this.subscriptions.subscribe(conn, message.topics, message.id, message.since);
      case 'unsubscribe':
        return this.subscriptions.unsubscribe(conn, message.topics, message.id);
      case 'command':
        if (!identity.command) {
          return this.notAllowed(conn, 'this role may not send commands', message.id);
        }
        // A token narrowed to some devices commands those it may watch, as it changes their state.
        if (!coversDevice(identity, message.target)) {
          return this.outbound.send(conn, {
            type: 'nack',
            id: message.id,
            reason: NackReason.Forbidden,
            message: `this token does not cover ${message.target}`,
          });
        }
        return this.commands.dispatch(this.senderOf(conn), message);
      case 'ack':
      case 'nack': {
        if (!isDeviceRole(identity)) {
          return this.notAllowed(conn, 'only devices answer commands', message.id);
        }
        const speaker = this.subDevices.speaker(conn, message.device, message.id);
        if (speaker === undefined) return;
        if (!this.commands.answer(conn, message, speaker)) {
          const refusal = new ProtocolError(
            ErrorCode.NoPendingCommand,
            `${message.type} without id: no command is waiting for this device's answer`,
          );
          this.guard.refuse(conn, refusal);
        }
        return;
      }
      case 'attach':
        return this.subDevices.attach(conn, message.device, message.id);
      case 'detach':
        return this.subDevices.detach(conn, message.device, message.id);
      case 'stream_open':
        return this.streams.open(conn, message);
      case 'stream_close':
        return this.streams.close(conn, message);
      case 'state.report':
        if (!isDeviceRole(identity)) {
          return this.notAllowed(conn, 'only devices report state', message.id);
        }
        if (!this.states) return this.stateUnavailable(conn, message.id);
        return this.states.report(conn, message);
      case 'state.set':
        if (!this.states) return this.stateUnavailable(conn, message.id);
        return this.states.set(conn, message);
      case 'state.get':
        if (!this.states) return this.stateUnavailable(conn, message.id);
        return this.states.get(conn, message);
      case 'ping':
        return this.outbound.send(conn, {
          type: 'pong',
          ...(message.id === undefined ? {} : { id: message.id }),
          ts: Date.now(),
        });
      default:
        // Unreachable: parseClientMessage admits only the kinds above.
        return this.notAllowed(conn, 'unknown message kind', undefined);
    }
  }

  /** A connected dashboard or service as the sender of a command: its one answer comes here. */
  senderOf(conn: Connection): CommandSender {
    return {
      subject: conn.session.identity.subject,
      tenant: conn.session.identity.tenant,
      owner: conn.session,
      reply: (answer) => this.outbound.send(conn, answer),
    };
  }

  /** Not the client's fault and nothing it can fix by resending sooner: said once, not counted. */
  private stateUnavailable(conn: Connection, ref: string | undefined): void {
    if (!ref) return;
    this.outbound.send(conn, {
      type: 'nack',
      id: ref,
      reason: NackReason.Retry,
      message: 'this node keeps no device state (no database configured)',
    });
  }

  private notAllowed(conn: Connection, text: string, ref: string | undefined): void {
    this.guard.refuse(conn, new ProtocolError(ErrorCode.NotAllowed, text, ref));
  }
}

// Longer than the house limit: it maps every ServerMessage kind the core writes onto MQTT
// packets for both protocol levels (3.1.1 and 5.0), with the in-flight bookkeeping they share.
import {
  CloseCode,
  type ErrorMessage,
  type ServerAckMessage,
  type ServerMessage,
  type ServerNackMessage,
} from '@fleetwire/protocol';
import { generate, type Packet } from 'mqtt-packet';
import type { WebSocket } from 'uWebSockets.js';

import type { Connection } from '../../core/connection.js';
import type { Session } from '../../core/session.js';
import type { EdgeMetrics } from '../../metrics.js';
import {
  Disconnect,
  MqttClose,
  disconnectReason,
  refusalConnack,
  pubackReason,
  subackReason,
  SUBACK_FAILURE_V4,
  type MqttVersion,
} from './mqtt-codes.js';
import { deliveryPacket, laneOf, type MqttLane } from './mqtt-delivery.js';
import { answerTopic, commandTopic } from './mqtt-topics.js';
import type { RetainedMessage } from './retained-store.js';
import type { HeldPublishes } from '../tick-publisher.js';

/** What a connection's CONNACK says besides success (MQTT 5 properties). */
export interface ConnackFields {
  assignedClientId?: string;
  /** MQTT 5: the session expiry the client asked for was over ours (0: no session kept). */
  sessionExpiryOverride?: boolean;
  maxPacketBytes: number;
  maxInflight: number;
  retainAvailable: boolean;
  /**
   * MQTT 5 Request Problem Information (§3.1.2.11.7): when the client set it to 0, no Reason
   * String may go on a PUBACK or SUBACK.
   */
  problemInformation: boolean;
}

/** One inbound PUBLISH while the core handles it synchronously. */
export interface InboundContext {
  packetId: number | undefined;
  qos: 0 | 1;
  /** The id the core knows the message by (it answers with it). */
  id?: string | undefined;
  /** The message is a command: its answers go to `answerTopic`, not to a PUBACK. */
  command?: boolean;
  answered: boolean;
  refusal?: ErrorMessage;
}

/** A SUBSCRIBE waiting for the core's answer to each of its filters. */
interface PendingSuback {
  packetId: number;
  /** The packet's filters in order, repeats included: SUBACK has a code for each. */
  filters: string[];
  codes: (number | undefined)[];
  /** Distinct filters not answered yet. */
  left: number;
  onDone: (granted: string[]) => void;
}

/**
 * An MQTT connection as the session core sees it. The core's messages become MQTT packets:
 * `welcome` → CONNACK, a delivery → PUBLISH (QoS 0), `command` → PUBLISH on the device's command
 * topic, the `ack`/`nack` of a QoS 1 PUBLISH → its PUBACK (or, for `nack retry`, a close so the
 * client resends), the ack of a subscribe → SUBACK, an answer to a command this client sent →
 * PUBLISH on the device's answers topic, `error` → a PUBACK/SUBACK reason code (MQTT 5) or
 * nothing (3.1.1 has none). docs/mqtt.md has the whole table.
 */
export class MqttConnection implements Connection {
  readonly lane: MqttLane;
  readonly transport = 'mqtt';
  /** Set when the socket is gone (uWS must not be touched) or closing. */
  private ended = false;
  private current: InboundContext | undefined;
  /** QoS 1 PUBLISHes whose PUBACK waits for the core's answer, by the id the core knows. */
  private readonly awaiting = new Map<string, number[]>();
  private awaitingCount = 0;
  /** Commands this client sent, by id: the target devices, oldest first. */
  private readonly commandsSent = new Map<string, string[]>();
  /** Per internal subscribe id: its SUBACK, and where its filter stands in the packet. */
  private readonly subscribing = new Map<string, { suback: PendingSuback; indexes: number[] }>();
  private internalIds = 0;
  /** CONNACK went out: packets may be handled. */
  acknowledged = false;

  constructor(
    private readonly ws: WebSocket<unknown>,
    readonly session: Session,
    readonly version: MqttVersion,
    private readonly metrics: EdgeMetrics,
    private readonly connack: ConnackFields,
    private readonly onAcknowledged: () => void,
    /** Deliveries held for the end of the tick go before a direct packet to a subscriber. */
    private readonly held: HeldPublishes,
  ) {
    this.lane = laneOf(version);
  }

  /** QoS 1 PUBLISHes waiting for their PUBACK (bounded by the inflight limit). */
  get inflight(): number {
    return this.awaitingCount;
  }

  get closing(): boolean {
    return this.ended;
  }

  /** The socket closed: nothing may be written any more. */
  markGone(): void {
    this.ended = true;
  }

  /** A fresh id for a message only the transport and the core see (never stored or delivered). */
  internalId(kind: string): string {
    this.internalIds += 1;
    // U+0000 never survives payload decoding, so no client id can look like this.
    return `\u0000${kind}${this.internalIds}`;
  }

  /** Runs `handle` with `context` as the PUBLISH the core's synchronous answers belong to. */
  within(context: InboundContext, handle: () => void): void {
    this.current = context;
    try {
      handle();
    } finally {
      this.current = undefined;
    }
  }

  /** The PUBLISH in `context` was handed to the core and not answered yet. */
  afterPublish(context: InboundContext): void {
    if (context.refusal) {
      if (context.command && context.id !== undefined) this.forgetCommand(context.id);
      this.refusePublish(context, context.refusal);
      return;
    }
    if (context.answered || context.qos === 0 || context.packetId === undefined) return;
    if (context.id !== undefined && !context.command) {
      // Answered later (telemetry: once the log has it).
      const queue = this.awaiting.get(context.id);
      if (queue) queue.push(context.packetId);
      else this.awaiting.set(context.id, [context.packetId]);
      this.awaitingCount += 1;
      return;
    }
    this.puback(context.packetId);
  }

  /** A command this client sends: its answer comes back on the device's answers topic. */
  /** Whether a command this connection sent with `id` still waits for its answer. */
  awaitingAnswer(id: string): boolean {
    return this.commandsSent.has(id);
  }

  expectAnswer(id: string, target: string): void {
    const targets = this.commandsSent.get(id);
    if (targets) targets.push(target);
    else this.commandsSent.set(id, [target]);
  }

  /**
   * A SUBSCRIBE: one internal id per distinct filter (filter → id, in the packet's order); SUBACK
   * once the core answered each, the code repeated for every copy of a filter.
   */
  subscribeIds(
    packetId: number,
    filters: string[],
    onDone: (granted: string[]) => void,
  ): Map<string, string> {
    const ids = new Map<string, string>();
    const entries = new Map<string, number[]>();
    for (const [index, filter] of filters.entries()) {
      const indexes = entries.get(filter);
      if (indexes) indexes.push(index);
      else entries.set(filter, [index]);
    }
    const suback: PendingSuback = {
      packetId,
      filters,
      codes: filters.map(() => undefined),
      left: entries.size,
      onDone,
    };
    for (const [filter, indexes] of entries) {
      const id = this.internalId('s');
      this.subscribing.set(id, { suback, indexes });
      ids.set(filter, id);
    }
    return ids;
  }

  /** A filter refused before it reached the core (MQTT-only reasons). */
  refuseFilter(id: string, code: string): void {
    this.subscribeAnswered(id, code);
  }

  write(message: ServerMessage): boolean {
    switch (message.type) {
      case 'welcome':
        return this.sendConnack();
      case 'message':
        return this.send(deliveryPacket(message, this.version));
      case 'command':
        return this.sendPublish(
          commandTopic(this.session.identity.subject, message.name),
          JSON.stringify(message),
        );
      case 'ack':
      case 'nack':
        return this.answer(message);
      case 'error':
        this.refusal(message);
        return true;
      case 'pong':
        // PINGREQ is answered by the transport; the core's pong has no MQTT form.
        return true;
      case 'recovery':
      case 'gap':
        // History recovery is a /ws feature (docs/protocol.md); MQTT has no packet for these.
        return true;
      case 'detached':
        // Only for gateways with sub-devices, which MQTT does not carry (docs/mqtt.md).
        return true;
      case 'state':
        // Desired-state changes reach an MQTT device on its own state topic.
        return this.sendPublish(
          `devices/${this.session.identity.subject}/state/delta`,
          JSON.stringify(message),
        );
    }
  }

  bufferedBytes(): number {
    return this.ended ? 0 : this.ws.getBufferedAmount();
  }

  end(code: number, reason: string): void {
    if (this.ended) return;
    this.ended = true;
    this.ws.cork(() => {
      if (!this.acknowledged && code === CloseCode.DeviceLimit) {
        // Refused once the CONNECT was taken (its device is new to a full tenant): a CONNACK
        // that says so, as for any refused CONNECT.
        this.metrics.mqttConnectRefusals.inc({ reason: 'quota_exceeded' });
        this.ws.send(refusalConnack('quota_exceeded', this.version, reason), true);
      } else if (this.version === 5 && this.acknowledged) {
        this.ws.send(
          generate(
            {
              cmd: 'disconnect',
              reasonCode: disconnectReason(code, reason),
              properties: { reasonString: reason },
            },
            { protocolVersion: 5 },
          ),
          true,
        );
      }
      this.ws.end(code, reason);
    });
  }

  /** Closes for an MQTT reason of the transport's own (MQTT 5 DISCONNECT first). */
  disconnect(mqttReason: number, wsCode: number, reason: string): void {
    if (this.ended) return;
    this.ended = true;
    this.ws.cork(() => {
      if (this.version === 5) {
        this.ws.send(
          generate(
            { cmd: 'disconnect', reasonCode: mqttReason, properties: { reasonString: reason } },
            { protocolVersion: 5 },
          ),
          true,
        );
      }
      this.ws.end(wsCode, reason);
    });
  }

  join(topic: string): void {
    // As on /ws: publishes held from before the join are not this socket's.
    this.held.flush();
    if (!this.ended) this.ws.subscribe(`${this.lane}|${topic}`);
  }

  leave(topic: string): void {
    if (!this.ended) this.ws.unsubscribe(`${this.lane}|${topic}`);
  }

  /**
   * Retained messages a SUBSCRIBE still has to be sent, from `next` on, while the socket drains
   * (the transport's replay, paced by the socket's backpressure).
   */
  retainedDue: { messages: RetainedMessage[]; next: number } | undefined;

  /** Runs `write` corked: its packets leave in one socket write. */
  corked(write: () => void): void {
    if (!this.ended) this.ws.cork(write);
  }

  /** Writes one packet; false when it was dropped (backpressure) or the socket is gone. */
  sendPacket(packet: Packet): boolean {
    return this.send(generate(packet, { protocolVersion: this.version }));
  }

  /** A PUBLISH (QoS 0) of the transport's own: commands, answers, retained messages. */
  sendPublish(topic: string, payload: string | Buffer, retain = false): boolean {
    return this.sendPacket({ cmd: 'publish', qos: 0, dup: false, retain, topic, payload });
  }

  puback(packetId: number, reasonCode = 0, reasonString?: string): void {
    this.sendPacket({
      cmd: 'puback',
      messageId: packetId,
      ...(this.version === 5 && reasonCode !== 0
        ? {
            reasonCode,
            ...(reasonString && this.connack.problemInformation
              ? { properties: { reasonString } }
              : {}),
          }
        : {}),
    });
  }

  private send(bytes: Buffer): boolean {
    if (this.ended) return false;
    if (this.session.patterns.size > 0) this.held.flush();
    let status = 0;
    // Writes from timers, the bus or Kafka callbacks wait in uWS's buffer unless corked.
    this.ws.cork(() => {
      status = this.ws.send(bytes, true);
    });
    if (status === 2) return false;
    this.metrics.bytesOut.inc({ transport: 'mqtt' }, bytes.byteLength);
    return true;
  }

  private sendConnack(): boolean {
    const { connack } = this;
    const sent = this.sendPacket(
      this.version === 5
        ? {
            cmd: 'connack',
            reasonCode: 0,
            sessionPresent: false,
            properties: {
              maximumQoS: 1,
              retainAvailable: connack.retainAvailable,
              maximumPacketSize: connack.maxPacketBytes,
              receiveMaximum: connack.maxInflight,
              wildcardSubscriptionAvailable: true,
              subscriptionIdentifiersAvailable: false,
              sharedSubscriptionAvailable: false,
              ...(connack.sessionExpiryOverride ? { sessionExpiryInterval: 0 } : {}),
              ...(connack.assignedClientId
                ? { assignedClientIdentifier: connack.assignedClientId }
                : {}),
            },
          }
        : { cmd: 'connack', returnCode: 0, sessionPresent: false },
    );
    this.acknowledged = true;
    this.onAcknowledged();
    return sent;
  }

  private answer(message: ServerAckMessage | ServerNackMessage): boolean {
    const { current } = this;
    if (current && !current.command && current.id === message.id) {
      current.answered = true;
      this.settle(current.qos === 1 ? current.packetId : undefined, message);
      return true;
    }
    const targets = this.commandsSent.get(message.id);
    if (targets) {
      const target = targets.shift() as string;
      if (targets.length === 0) this.commandsSent.delete(message.id);
      return this.sendPublish(answerTopic(target), JSON.stringify(message));
    }
    const subscription = this.subscribing.get(message.id);
    if (subscription) {
      this.subscribeAnswered(message.id, undefined);
      return true;
    }
    const queue = this.awaiting.get(message.id);
    if (queue) {
      const packetId = queue.shift();
      if (queue.length === 0) this.awaiting.delete(message.id);
      this.awaitingCount -= 1;
      this.settle(packetId, message);
    }
    // Otherwise an answer with no MQTT form (a QoS 0 message's ack): nothing to send.
    return true;
  }

  /** The core's answer to a QoS 1 PUBLISH. */
  private settle(
    packetId: number | undefined,
    message: ServerAckMessage | ServerNackMessage,
  ): void {
    if (packetId === undefined) return;
    if (message.type === 'ack') {
      this.puback(packetId);
      return;
    }
    // nack retry: the telemetry log did not take it. Withholding the PUBACK and closing makes
    // the client library resend it on reconnect (MQTT's at-least-once), with no code of its own.
    this.disconnect(
      Disconnect.ServerBusy,
      MqttClose.TryAgainLater,
      'telemetry log unavailable: resend after reconnecting',
    );
  }

  private refusal(error: ErrorMessage): void {
    if (error.ref !== undefined && this.subscribing.has(error.ref)) {
      this.subscribeAnswered(error.ref, error.code);
      return;
    }
    if (this.current && !this.current.refusal) {
      this.current.refusal = error;
      this.current.answered = true;
    }
    // Otherwise nothing to answer: MQTT has no error packet.
  }

  /** A refused QoS 1 PUBLISH: MQTT 5 says why in the PUBACK; 3.1.1 can only acknowledge it. */
  private refusePublish(context: InboundContext, error: ErrorMessage): void {
    if (context.qos === 0 || context.packetId === undefined || this.ended) return;
    // MQTT 3.1.1 §3.3.5: a server that does not authorize a PUBLISH "MUST either make a
    // positive acknowledgement … or close the Network Connection".
    if (this.version === 5) this.puback(context.packetId, pubackReason(error.code), error.message);
    else this.puback(context.packetId);
  }

  private subscribeAnswered(id: string, errorCode: string | undefined): void {
    const entry = this.subscribing.get(id);
    if (!entry) return;
    this.subscribing.delete(id);
    const { suback, indexes } = entry;
    const code =
      errorCode === undefined
        ? 0 // granted QoS 0: deliveries are QoS 0 (§3.8.4 lets the server grant less)
        : this.version === 5
          ? subackReason(errorCode)
          : SUBACK_FAILURE_V4;
    for (const index of indexes) suback.codes[index] = code;
    suback.left -= 1;
    if (suback.left > 0) return;
    this.sendPacket({
      cmd: 'suback',
      messageId: suback.packetId,
      granted: suback.codes as number[],
    });
    suback.onDone([...new Set(suback.filters.filter((_, i) => suback.codes[i] === 0))]);
  }

  private forgetCommand(id: string): void {
    const targets = this.commandsSent.get(id);
    targets?.pop();
    if (targets?.length === 0) this.commandsSent.delete(id);
  }
}

import { randomUUID } from 'node:crypto';

import { canPublishAs } from '@fleetwire/auth';
import {
  ErrorCode,
  NackReason,
  ProtocolError,
  isEdgeTopic,
  topicProblem,
  type ClientMessage,
  type DeliveryMessage,
} from '@fleetwire/protocol';
import type { Logger } from 'pino';

import type { EdgeMetrics } from '../metrics.js';
import type { TelemetrySink } from '../telemetry-sink.js';
import type { AbuseGuard } from './abuse-guard.js';
import type { Connection } from './connection.js';
import type { Fanout } from './fanout.js';
import type { Outbound } from './outbound.js';

export type Publishable = Extract<
  ClientMessage,
  { type: 'telemetry' | 'event' | 'status' | 'publish' }
>;

/** A device clock this far off is not believed; the record takes the edge's time. */
const DEVICE_TS_PAST_MS = 7 * 24 * 3600 * 1000;
const DEVICE_TS_FUTURE_MS = 5 * 60 * 1000;

function recordTime(deviceTs: number | undefined, received: number): number {
  if (deviceTs === undefined) return received;
  const plausible =
    deviceTs >= received - DEVICE_TS_PAST_MS && deviceTs <= received + DEVICE_TS_FUTURE_MS;
  return plausible ? deviceTs : received;
}

/** The topic a message goes to: a device's own subtree, or the topic a `publish` names. */
export function topicOf(subject: string, message: Publishable): string {
  const base = `devices/${subject}`;
  switch (message.type) {
    case 'telemetry':
      return message.stream ? `${base}/telemetry/${message.stream}` : `${base}/telemetry`;
    case 'event':
      return `${base}/events/${message.name}`;
    case 'status':
      return `${base}/status`;
    case 'publish':
      return message.topic;
  }
}

/**
 * Telemetry, events, status and publishes: the topic is checked against the token's ACL, the
 * message goes to every subscriber, and telemetry goes to the sink. A message with an id is
 * acked once the sink has it (telemetry) or once it is handed to the fan-out (the rest); a
 * telemetry message the sink could not take is nacked `retry`.
 */
export class Publisher {
  constructor(
    private readonly fanout: Fanout,
    private readonly outbound: Outbound,
    private readonly guard: AbuseGuard,
    private readonly metrics: EdgeMetrics,
    private readonly logger: Logger,
    private readonly sink?: TelemetrySink,
  ) {}

  /** `speaker`: the sender, or the sub-device a gateway sends it for (checked by the caller). */
  publish(
    conn: Connection,
    message: Publishable,
    received: number,
    speaker = conn.session.identity.subject,
  ): void {
    const { identity } = conn.session;
    const topic = topicOf(speaker, message);
    const problem = topicProblem(topic);
    if (problem) {
      this.guard.refuse(conn, new ProtocolError(ErrorCode.BadTopic, problem, message.id));
      return;
    }
    if (!canPublishAs(identity, speaker, topic)) {
      const refusal = new ProtocolError(
        ErrorCode.Forbidden,
        `may not publish to ${topic}`,
        message.id,
      );
      this.guard.refuse(conn, refusal);
      return;
    }
    if (message.type === 'publish' && isEdgeTopic(topic)) {
      const refusal = new ProtocolError(
        ErrorCode.Forbidden,
        `${topic}: only the edge publishes there`,
        message.id,
      );
      this.guard.refuse(conn, refusal);
      return;
    }
    const ts = Date.now();
    const delivery: DeliveryMessage = {
      type: 'message',
      kind: message.type,
      topic,
      from: speaker,
      ...(speaker === identity.subject ? {} : { via: identity.subject }),
      ...(message.id === undefined ? {} : { id: message.id }),
      ts,
      data: message.data ?? {},
    };
    this.fanout.publish(identity.tenant, delivery, received);
    if (message.type === 'telemetry' && this.sink) {
      this.store(conn, message, topic, ts, speaker, received);
      return;
    }
    if (message.id) {
      this.outbound.send(conn, { type: 'ack', id: message.id });
      if (message.type === 'telemetry') this.observeAck(received);
    }
  }

  private observeAck(received: number): void {
    this.metrics.telemetryAckLatency.observe((performance.now() - received) / 1000);
  }

  private store(
    conn: Connection,
    message: Extract<Publishable, { type: 'telemetry' }>,
    topic: string,
    ts: number,
    deviceId: string,
    received: number,
  ): void {
    const { identity } = conn.session;
    (this.sink as TelemetrySink)
      .append({
        v: 1,
        tenant: identity.tenant,
        deviceId,
        // Every record gets an id, so the store can recognise a replay after a crash.
        msgId: message.id ?? randomUUID(),
        topic,
        ts: recordTime(message.ts, ts),
        data: message.data,
      })
      .then(
        () => {
          if (!message.id) return;
          this.outbound.send(conn, { type: 'ack', id: message.id });
          this.observeAck(received);
        },
        (error: unknown) => {
          // Counted here; the batch failure itself is visible in the telemetry log's metrics.
          this.logger.debug({ err: error, session: conn.session.id }, 'telemetry not stored');
          this.metrics.telemetryNacks.inc({ reason: NackReason.Retry });
          if (message.id) {
            this.outbound.send(conn, { type: 'nack', id: message.id, reason: NackReason.Retry });
          }
        },
      );
  }
}

import { z } from 'zod';

import { NackReason } from './codes.js';
import { StreamCloseMessage, StreamOpenMessage } from './stream-messages.js';
import { AttachMessage, DetachMessage, DeviceId } from './subdevice-messages.js';

/**
 * The envelope. Every message is an object with a `type`; clients send the ClientMessage kinds,
 * the server sends the ServerMessage kinds. Message ids are chosen by the sender and echoed in
 * acks and nacks.
 */

export const MessageId = z.string().min(1).max(64);
const Data = z.record(z.string(), z.unknown());
const Name = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[A-Za-z0-9_.-]+$/, 'letters, digits, _ . - only');
const TopicList = z.array(z.string()).min(1).max(64);

export const TelemetryMessage = z.object({
  type: z.literal('telemetry'),
  id: MessageId.optional(),
  /** An optional sub-stream: published on devices/<id>/telemetry/<stream>. */
  stream: Name.optional(),
  /**
   * When the device first sent it, ms since the epoch. A resend carries the first send's time,
   * which is what lets the store recognise it (see telemetry-record.ts).
   */
  ts: z.number().int().nonnegative().optional(),
  /** A gateway's sub-device this is sent for (see subdevice-messages.ts). */
  device: DeviceId.optional(),
  data: Data,
});
export const EventMessage = z.object({
  type: z.literal('event'),
  id: MessageId.optional(),
  name: Name,
  device: DeviceId.optional(),
  data: Data.optional(),
});
export const StatusMessage = z.object({
  type: z.literal('status'),
  id: MessageId.optional(),
  device: DeviceId.optional(),
  data: Data,
});
export const PublishMessage = z.object({
  type: z.literal('publish'),
  id: MessageId.optional(),
  topic: z.string(),
  data: z.unknown(),
});
/**
 * A stream position as the server gave it in `message.pos` (history epoch, then the offset
 * `<ms>-<n>`); clients keep it as an opaque string and send it back in `subscribe.since`.
 */
export const StreamPosition = z
  .string()
  .max(48)
  .regex(
    /^[A-Za-z0-9]{1,16}:\d{1,15}-\d{1,15}$/,
    'a position as the server sent it in message.pos',
  );
export const SubscribeMessage = z
  .object({
    type: z.literal('subscribe'),
    id: MessageId.optional(),
    topics: TopicList,
    /** Per pattern of `topics`: resume after this position (history recovery). */
    since: z.record(z.string(), StreamPosition).optional(),
  })
  .refine((m) => m.since === undefined || Object.keys(m.since).every((p) => m.topics.includes(p)), {
    message: 'every pattern in since must be one of topics',
    path: ['since'],
  });
export const UnsubscribeMessage = z.object({
  type: z.literal('unsubscribe'),
  id: MessageId.optional(),
  topics: TopicList,
});
export const CommandMessage = z.object({
  type: z.literal('command'),
  id: MessageId,
  /** The target device id (a token `sub`) in the sender's tenant. */
  target: DeviceId,
  name: Name,
  params: z.unknown().optional(),
  timeoutMs: z.number().int().min(100).max(300_000).optional(),
});
/**
 * A device's answer to a command. Without an `id` it answers the device's oldest pending command
 * (the edge resolves it; see CommandRouter.answer).
 */
export const AckMessage = z.object({
  type: z.literal('ack'),
  id: MessageId.optional(),
  /** A gateway answers for the sub-device the command was addressed to. */
  device: DeviceId.optional(),
  result: z.unknown().optional(),
});
export const NackMessage = z.object({
  type: z.literal('nack'),
  id: MessageId.optional(),
  device: DeviceId.optional(),
  reason: z.string().min(1).max(64).default(NackReason.Rejected),
  message: z.string().max(1024).optional(),
});
export const PingMessage = z.object({ type: z.literal('ping'), id: MessageId.optional() });
/** A device reports the state it has (a patch of `reported`; `null` removes a key). */
export const StateReportMessage = z.object({
  type: z.literal('state.report'),
  id: MessageId.optional(),
  reported: Data,
});
/** A dashboard or service sets what a device should have (a patch of `desired`). */
export const StateSetMessage = z.object({
  type: z.literal('state.set'),
  id: MessageId.optional(),
  target: DeviceId,
  desired: Data,
  /** Applied only if the document is still at this version (optimistic concurrency). */
  version: z.number().int().nonnegative().optional(),
});
/** A dashboard or service asks for a device's state document (answered in the ack's result). */
export const StateGetMessage = z.object({
  type: z.literal('state.get'),
  id: MessageId,
  target: DeviceId,
});

/** `PATCH /v1/devices/{deviceId}/state`: a patch of `desired`, optionally at a version. */
export const StatePatchBody = z.object({
  desired: Data,
  version: z.number().int().nonnegative().optional(),
});

/** `POST /api/commands`: a command without the envelope's `type`; the id is optional there. */
export const CommandRequestBody = CommandMessage.omit({ type: true }).extend({
  id: MessageId.optional(),
});

export const ClientMessage = z.discriminatedUnion('type', [
  TelemetryMessage,
  EventMessage,
  StatusMessage,
  PublishMessage,
  SubscribeMessage,
  UnsubscribeMessage,
  CommandMessage,
  AckMessage,
  NackMessage,
  PingMessage,
  AttachMessage,
  DetachMessage,
  StreamOpenMessage,
  StreamCloseMessage,
  StateReportMessage,
  StateSetMessage,
  StateGetMessage,
]);
export type ClientMessage = z.infer<typeof ClientMessage>;
export type ClientMessageType = ClientMessage['type'];
export const CLIENT_MESSAGE_TYPES: readonly string[] = ClientMessage.options.map(
  (option) => option.shape.type.value,
);

/** What subscribers receive for every telemetry, event, status and publish. */
export interface DeliveryMessage {
  type: 'message';
  /** The kind the publisher sent. */
  kind: 'telemetry' | 'event' | 'status' | 'publish' | 'presence' | 'stream' | 'state';
  topic: string;
  /** The publisher's id (token `sub`), or the sub-device a gateway sent it for. */
  from: string;
  /** The gateway that sent it for `from`, when one did. */
  via?: string;
  id?: string;
  /** Server receive time, ms since the epoch. */
  ts: number;
  data: unknown;
  /**
   * Where the message sits in its tenant's history (`<epoch>:<ms>-<n>`), when the edge keeps
   * history: send the last one back in `subscribe.since` to resume after it.
   */
  pos?: string;
  /** The subscription a recovered message (or one held back while recovering) is for. */
  sub?: string;
}

/** Why a subscription could not be resumed from its position. */
export type RecoveryFailure =
  'expired' | 'epoch_changed' | 'too_many' | 'history_disabled' | 'unavailable';

/**
 * The answer to a `subscribe` pattern that came with a position, sent before the missed
 * messages. `recovered: false` says what to fetch from the read API instead: the time range
 * `from`–`to` (ms since the epoch).
 */
export type RecoveryMessage =
  | {
      type: 'recovery';
      id?: string;
      topic: string;
      recovered: true;
      /** Missed messages that follow, each with `sub` set to `topic`. */
      count: number;
    }
  | {
      type: 'recovery';
      id?: string;
      topic: string;
      recovered: false;
      reason: RecoveryFailure;
      from: number;
      to: number;
    };

/** Why messages may be missing. */
export type GapReason = 'bus_unavailable' | 'outbox_full';

/**
 * Messages on `topic` (a topic, or the pattern of a subscription) published between `from` and
 * `to` (ms since the epoch, the publisher's receive time) may not have been delivered: fetch the
 * range from the read API.
 */
export interface GapMessage {
  type: 'gap';
  topic: string;
  from: number;
  to: number;
  reason: GapReason;
  /** Messages known dropped, when the edge that dropped them counted them. */
  count?: number;
  pos?: string;
  sub?: string;
}

export interface WelcomeMessage {
  type: 'welcome';
  /** The identity the token gave this connection. */
  sub: string;
  role: string;
  tenant: string;
  node: string;
  /** The encoding of this connection, where the transport offers a choice (WebSocket). */
  format?: WireFormat;
  /**
   * This connection's message rate limit (a token bucket: `ratePerSec` frames a second, at most
   * `rateBurst` saved up), so a client can pace what it sends, a backlog after a reconnect above
   * all, instead of finding the limit by being closed with 1008.
   */
  limits?: { ratePerSec: number; rateBurst: number };
}

export interface ServerCommandMessage {
  type: 'command';
  id: string;
  from: string;
  /** To a gateway: the sub-device the command is for. */
  device?: string;
  name: string;
  params?: unknown;
}

export interface ServerAckMessage {
  type: 'ack';
  id: string;
  result?: unknown;
}

export interface ServerNackMessage {
  type: 'nack';
  id: string;
  reason: string;
  message?: string;
}

export interface ErrorMessage {
  type: 'error';
  code: string;
  message: string;
  /** The id of the message that caused it, when it had one. */
  ref?: string;
}

/**
 * To a device: what it should change. Sent on connect when `delta` is not empty, and whenever
 * `desired` changes. A device may see a version twice after a reconnect; it never goes back.
 */
export interface StateMessage {
  type: 'state';
  version: number;
  desired: Record<string, unknown>;
  delta: Record<string, unknown>;
}

export interface PongMessage {
  type: 'pong';
  id?: string;
  ts: number;
}

/** To a gateway: a sub-device is no longer its own (it connected elsewhere). */
export interface DetachedMessage {
  type: 'detached';
  device: string;
  reason: 'replaced';
}

export type ServerMessage =
  | DetachedMessage
  | DeliveryMessage
  | WelcomeMessage
  | ServerCommandMessage
  | ServerAckMessage
  | ServerNackMessage
  | ErrorMessage
  | PongMessage
  | RecoveryMessage
  | GapMessage
  | StateMessage;

/** `json` travels in text frames, `msgpack` in binary frames. */
export type WireFormat = 'json' | 'msgpack';

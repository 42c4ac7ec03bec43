import {
  WRAPPED_DECODE_LIMITS,
  decodeJson,
  decodeRelayFrame,
  firstIssue,
  type DeliveryMessage,
  type ServerCommandMessage,
} from '@fleetwire/protocol';
import { z } from 'zod';

/**
 * Everything edge nodes send each other over the bus, in one place: deliveries on topic
 * channels; commands, takeovers, desired-state changes and command answers on node inboxes (a
 * node finds the one holding a device through presence, and names the device in `to`).
 *
 * Versioning for rolling deploys: a message carries `v` only when it is newer than version 1
 * (nodes from before versioning send none, and are version 1). A node drops, and counts, a
 * message of a version it does not know or a kind it does not know, so a newer node's
 * additions cannot break an older one; unknown extra fields are ignored.
 */
export const NODE_MESSAGE_VERSION = 1;

const Version = z.number().int().min(1).optional();
const Id = z.string().min(1).max(64);
/** A device key, `tenant/id`: the device a message on a node's inbox is for. */
const To = z.string().min(3).max(256).includes('/');
const Reply = z.discriminatedUnion('type', [
  z.object({ type: z.literal('ack'), id: Id, result: z.unknown().optional() }),
  z.object({
    type: z.literal('nack'),
    id: Id,
    reason: z.string().min(1).max(64),
    message: z.string().max(1024).optional(),
  }),
]);

export const Delivery = z.object({
  v: Version,
  type: z.literal('message'),
  kind: z.enum(['telemetry', 'event', 'status', 'publish', 'presence', 'stream', 'state']),
  topic: z.string().min(1).max(256),
  from: z.string().min(1).max(128),
  via: z.string().min(1).max(128).optional(),
  id: Id.optional(),
  ts: z.number(),
  data: z.unknown(),
});

/** Messages on a topic may be missing (the publishing node dropped them: its outbox was full). */
export const Gap = z.object({
  v: Version,
  type: z.literal('gap'),
  topic: z.string().min(1).max(256),
  from: z.number(),
  to: z.number(),
  reason: z.enum(['bus_unavailable', 'outbox_full']),
  count: z.number().int().nonnegative().optional(),
});
export type Gap = Omit<z.infer<typeof Gap>, 'v'>;
const TopicMessage = z.discriminatedUnion('type', [Delivery, Gap]);
const TOPIC_KINDS = new Set(['message', 'gap']);

/** A tenant's gap too wide to list by topic, sent to every node (see BusOutbox). */
export const WideGap = z.object({
  v: Version,
  type: z.literal('wide_gap'),
  tenant: z.string().min(1).max(64),
  from: z.number(),
  to: z.number(),
  count: z.number().int().nonnegative(),
});
export type WideGap = Omit<z.infer<typeof WideGap>, 'v'>;

const InboxMessage = z.discriminatedUnion('type', [
  z.object({
    v: Version,
    type: z.literal('command'),
    id: Id,
    from: z.string().min(1).max(128),
    name: z.string().min(1).max(64),
    params: z.unknown().optional(),
    replyTo: z.string().min(1).max(256),
    timeoutMs: z.number().int().positive().max(600_000),
    to: To,
    /** 1: forwarded once already by a node the device had left; never forwarded again. */
    hops: z.number().int().min(0).max(1).optional(),
  }),
  // `to` absent: a takeover from a node of before node-inbox routing (it is ignored).
  z.object({
    v: Version,
    type: z.literal('takeover'),
    node: z.string().min(1).max(256),
    to: To.optional(),
  }),
  z.object({
    v: Version,
    type: z.literal('answer'),
    device: z.string().min(1).max(256),
    answer: Reply,
  }),
  // A device's desired state changed: whichever node holds the device sends it on.
  z.object({
    v: Version,
    type: z.literal('state'),
    to: To,
    version: z.number().int().nonnegative(),
    desired: z.record(z.string(), z.unknown()),
    delta: z.record(z.string(), z.unknown()),
  }),
]);
export type InboxMessage = z.infer<typeof InboxMessage>;
export type CommandReply = z.infer<typeof Reply>;
export type RemoteCommand = Extract<InboxMessage, { type: 'command' }>;
export type RemoteState = Extract<InboxMessage, { type: 'state' }>;

/** Why a message from another node was dropped (metric label). */
export type NodeMessageProblem = 'undecodable' | 'invalid' | 'unknown_kind' | 'newer_version';

export class NodeMessageError extends Error {
  override readonly name = 'NodeMessageError';
  constructor(
    readonly code: NodeMessageProblem,
    message: string,
  ) {
    super(message);
  }
}

const INBOX_KINDS = new Set(['command', 'takeover', 'answer', 'state']);

function decodeWith<T>(
  payload: Uint8Array,
  schema: z.ZodType<T>,
  known: (type: unknown) => boolean,
): T {
  let value: unknown;
  try {
    value = decodeJson(payload, WRAPPED_DECODE_LIMITS);
  } catch (error) {
    throw new NodeMessageError('undecodable', (error as Error).message);
  }
  const head = (typeof value === 'object' && value !== null ? value : {}) as {
    v?: unknown;
    type?: unknown;
  };
  if (typeof head.v === 'number' && head.v > NODE_MESSAGE_VERSION) {
    throw new NodeMessageError('newer_version', `version ${head.v}`);
  }
  if (!known(head.type)) throw new NodeMessageError('unknown_kind', `kind ${String(head.type)}`);
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    throw new NodeMessageError('invalid', firstIssue(parsed.error, 'message'));
  }
  return parsed.data;
}

/** A delivery from the bus; throws NodeMessageError. */
export function decodeDelivery(payload: Uint8Array): DeliveryMessage {
  const { v: _version, ...delivery } = decodeWith(payload, Delivery, (t) => t === 'message');
  return delivery as DeliveryMessage;
}

/** A delivery or a gap from a topic channel (history mode); throws NodeMessageError. */
export function decodeTopicMessage(payload: Uint8Array): DeliveryMessage | Gap {
  const { v: _version, ...message } = decodeWith(payload, TopicMessage, (t) =>
    TOPIC_KINDS.has(t as string),
  );
  return message as DeliveryMessage | Gap;
}

/** A wide gap from the gap inbox; throws NodeMessageError. */
export function decodeWideGap(payload: Uint8Array): WideGap {
  const { v: _version, ...gap } = decodeWith(payload, WideGap, (t) => t === 'wide_gap');
  return gap;
}

export function encodeTopicMessage(message: DeliveryMessage | Gap | WideGap): Buffer {
  return Buffer.from(JSON.stringify(message));
}

/** A message from a device or node inbox; throws NodeMessageError. */
export function decodeInboxMessage(payload: Uint8Array): InboxMessage {
  return decodeWith(payload, InboxMessage, (t) => typeof t === 'string' && INBOX_KINDS.has(t));
}

/**
 * A stream relay frame from another node (its first byte, 0xC1, tells it from a JSON delivery)
 * on the bus channel `qualifiedTopic`; throws NodeMessageError. A node from before streams drops
 * these as undecodable.
 */
export function checkRelayFrame(payload: Uint8Array, qualifiedTopic: string): void {
  let topic: string;
  try {
    ({ topic } = decodeRelayFrame(payload));
  } catch (error) {
    throw new NodeMessageError('undecodable', (error as Error).message);
  }
  if (qualifiedTopic.slice(qualifiedTopic.indexOf('/') + 1) !== topic) {
    throw new NodeMessageError('invalid', `relay frame for ${topic} on ${qualifiedTopic}`);
  }
}

export function encodeDelivery(message: DeliveryMessage): Buffer {
  return Buffer.from(JSON.stringify(message));
}

export function encodeInboxMessage(message: InboxMessage): Buffer {
  return Buffer.from(JSON.stringify(message));
}

/** The remote command a node sends to the node holding device `to` (a device key). */
export function remoteCommand(
  command: ServerCommandMessage,
  replyTo: string,
  timeoutMs: number,
  to: string,
): RemoteCommand {
  return { ...command, replyTo, timeoutMs, to };
}

/**
 * Inbox names: a node's own, and one every node listens on. There is no inbox per device: a
 * node listens on one inbox however many devices it holds.
 */
export const inbox = {
  node: (nodeId: string): string => `node:${nodeId}`,
  /** Every node listens: tenant-wide gaps. */
  gaps: 'gaps',
};

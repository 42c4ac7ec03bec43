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
 * channels, commands, takeovers and desired-state changes on device inboxes, command answers on
 * node inboxes.
 *
 * Versioning for rolling deploys: a message carries `v` only when it is newer than version 1
 * (nodes from before versioning send none, and are version 1). A node drops, and counts, a
 * message of a version it does not know or a kind it does not know, so a newer node's
 * additions cannot break an older one; unknown extra fields are ignored.
 */
export const NODE_MESSAGE_VERSION = 1;

const Version = z.number().int().min(1).optional();
const Id = z.string().min(1).max(64);
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
  }),
  z.object({ v: Version, type: z.literal('takeover'), node: z.string().min(1).max(256) }),
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

/** The remote command a node forwards to the device's node. */
export function remoteCommand(
  command: ServerCommandMessage,
  replyTo: string,
  timeoutMs: number,
): RemoteCommand {
  return { ...command, replyTo, timeoutMs };
}

/** Inbox names: a device's (whichever node holds it listens) and a node's own. */
export const inbox = {
  device: (deviceKey: string): string => `dev:${deviceKey}`,
  node: (nodeId: string): string => `node:${nodeId}`,
  /** The device key of a device inbox, or undefined for any other inbox. */
  deviceOf: (name: string): string | undefined =>
    name.startsWith('dev:') ? name.slice('dev:'.length) : undefined,
};

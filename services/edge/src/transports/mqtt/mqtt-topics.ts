import { isDeviceRole, type Identity } from '@fleetwire/auth';
import {
  ErrorCode,
  ProtocolError,
  decodeJson,
  parseClientMessage,
  topicProblem,
  type ClientMessage,
  type DecodeLimits,
} from '@fleetwire/protocol';

/**
 * Where MQTT topics meet Fleetwire's messages. Topics are tenant-relative, as on `/ws`.
 *
 * A device publishes to its own subtree: `devices/<sub>/telemetry[/<stream>]` (telemetry),
 * `devices/<sub>/events/<name>` (event), `devices/<sub>/status` (status),
 * `devices/<sub>/answers` (its answer to a command, the JSON protocol's `ack`/`nack` message).
 * A dashboard or service commands a device by publishing to `devices/<target>/commands/<name>`.
 * Any other topic is a `publish` (the token's ACL decides). Devices receive commands on
 * `devices/<sub>/commands/<name>`, senders the answers on `devices/<target>/answers`.
 */

export const commandTopic = (device: string, name: string): string =>
  `devices/${device}/commands/${name}`;
export const answerTopic = (device: string): string => `devices/${device}/answers`;

/**
 * mqtt-packet decodes a string's invalid UTF-8 into U+FFFD, where §1.5.4 calls the packet
 * malformed; a topic holding U+FFFD is taken as one that did (no real topic needs it).
 */
export function notUtf8(topics: readonly string[]): boolean {
  return topics.some((topic) => topic.includes('\uFFFD'));
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A payload object's own `id`, when it is a valid message id (as bare JSON telemetry's). */
function idOf(value: unknown): string | undefined {
  if (!isObject(value)) return undefined;
  const id = value['id'];
  return typeof id === 'string' && id.length > 0 && id.length <= 64 ? id : undefined;
}

/** A payload object's `ts`, when it is a time in ms since the epoch. */
function tsOf(value: unknown): number | undefined {
  if (!isObject(value)) return undefined;
  const ts = value['ts'];
  return typeof ts === 'number' && Number.isSafeInteger(ts) && ts >= 0 ? ts : undefined;
}

/** The payload as a JSON value (empty: undefined), bounded like every frame. */
export function decodePayload(payload: Uint8Array, limits: DecodeLimits): unknown {
  if (payload.length === 0) return undefined;
  try {
    return decodeJson(payload, limits);
  } catch (error) {
    if (!(error instanceof ProtocolError)) throw error;
    const message =
      error.code === ErrorCode.BadFrame
        ? `payload is not valid JSON: ${error.message}`
        : error.message;
    throw new ProtocolError(error.code, message, undefined, { cause: error });
  }
}

export interface InboundPublish {
  topic: string;
  payload: Uint8Array;
  /** Give telemetry without an `id` this one (QoS 1: its PUBACK waits for the telemetry log). */
  assignId?: () => string;
}

/**
 * The client message an MQTT PUBLISH stands for. Throws ProtocolError (bad_topic, bad_frame,
 * limit_exceeded, bad_message) as a JSON frame would; the ACL is the core's to check.
 */
export function messageOfPublish(
  identity: Identity,
  publish: InboundPublish,
  limits: DecodeLimits,
): ClientMessage {
  const { topic } = publish;
  const problem = topicProblem(topic);
  if (problem) throw new ProtocolError(ErrorCode.BadTopic, problem);
  const value = decodePayload(publish.payload, limits);
  const id = idOf(value);
  const withId = id === undefined ? {} : { id };
  const levels = topic.split('/');
  const own = levels[0] === 'devices' && levels[1] === identity.subject;
  let candidate: Record<string, unknown>;
  if (isDeviceRole(identity) && own && levels[2] === 'telemetry' && levels.length <= 4) {
    const assigned = id ?? publish.assignId?.();
    const ts = tsOf(value);
    candidate = {
      type: 'telemetry',
      ...(assigned === undefined ? {} : { id: assigned }),
      ...(levels[3] === undefined ? {} : { stream: levels[3] }),
      ...(ts === undefined ? {} : { ts }),
      data: value,
    };
  } else if (isDeviceRole(identity) && own && levels[2] === 'events' && levels.length === 4) {
    candidate = { type: 'event', ...withId, name: levels[3], data: value };
  } else if (isDeviceRole(identity) && own && levels[2] === 'status' && levels.length === 3) {
    candidate = { type: 'status', ...withId, data: value };
  } else if (isDeviceRole(identity) && own && levels[2] === 'answers' && levels.length === 3) {
    if (!isObject(value)) {
      throw new ProtocolError(ErrorCode.BadMessage, 'an answer must be a JSON object', id);
    }
    candidate = { ...value, type: value['type'] ?? 'ack' };
    if (candidate['type'] !== 'ack' && candidate['type'] !== 'nack') {
      throw new ProtocolError(ErrorCode.BadMessage, 'an answer is an ack or a nack', id);
    }
  } else if (
    !isDeviceRole(identity) &&
    levels[0] === 'devices' &&
    levels[2] === 'commands' &&
    levels.length === 4
  ) {
    if (!isObject(value)) {
      throw new ProtocolError(ErrorCode.BadMessage, 'a command must be a JSON object', id);
    }
    candidate = {
      type: 'command',
      id: value['id'],
      target: levels[1],
      name: levels[3],
      ...('params' in value ? { params: value['params'] } : {}),
      ...('timeoutMs' in value ? { timeoutMs: value['timeoutMs'] } : {}),
    };
  } else {
    candidate = { type: 'publish', ...withId, topic, data: value ?? null };
  }
  return parseClientMessage(candidate, { bareTelemetry: false });
}

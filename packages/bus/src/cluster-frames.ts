import type { Position } from './history.js';

/**
 * Frames on a Redis Cluster domain channel (`<prefix>t:{<domain>}`): one channel carries all
 * topics of a domain, so the topic travels in the frame.
 *
 * - message: `<origin> <seq> <topic bytes> [<epoch> <offset>]\n<topic><payload>` (the position
 *   only on appended messages, written by the history script);
 * - sync marker: `<origin> ~ <token>\n`, for the origin's own sync().
 *
 * Parsing is bounded: the header line is looked for in the first HEADER_MAX bytes only.
 */
export type DomainFrame =
  | { kind: 'message'; origin: string; topic: string; payload: Buffer; position?: Position }
  | { kind: 'sync'; origin: string; token: string };

const NEWLINE = 0x0a;
const HEADER_MAX = 512;
const TOPIC_MAX = 65_535;

export function messageHead(origin: string, seq: number, topic: string): string {
  return `${origin} ${seq} ${Buffer.byteLength(topic)}`;
}

export function encodeMessage(
  origin: string,
  seq: number,
  topic: string,
  payload: Uint8Array,
): Buffer {
  return Buffer.concat([Buffer.from(`${messageHead(origin, seq, topic)}\n${topic}`), payload]);
}

export function encodeSyncMarker(origin: string, token: string): Buffer {
  return Buffer.from(`${origin} ~ ${token}\n`);
}

/** A frame, or undefined for bytes that are none (dropped by the caller, never thrown). */
export function parseDomainFrame(frame: Buffer): DomainFrame | undefined {
  const end = frame.subarray(0, HEADER_MAX).indexOf(NEWLINE);
  if (end < 0) return undefined;
  const [origin, second, third, epoch, offset] = frame.subarray(0, end).toString().split(' ');
  if (!origin || second === undefined || third === undefined) return undefined;
  if (second === '~') return { kind: 'sync', origin, token: third };
  const topicBytes = Number(third);
  if (!Number.isInteger(topicBytes) || topicBytes < 1 || topicBytes > TOPIC_MAX) return undefined;
  const start = end + 1;
  if (frame.length < start + topicBytes) return undefined;
  return {
    kind: 'message',
    origin,
    topic: frame.subarray(start, start + topicBytes).toString(),
    payload: frame.subarray(start + topicBytes),
    ...(epoch && offset ? { position: { epoch, offset } } : {}),
  };
}

/**
 * Frames on a domain's control channel (`<prefix>x:{<domain>}`), for interest-based publishing:
 * - `i <node> <version>\n<patterns, one per line>`: the node's patterns in the domain since
 *   table version `version`, to be acknowledged (a join waits for it); `u …`: the same without
 *   acknowledgement (patterns removed, or none: it left);
 * - `a <node> <version> <for>`: `node` applied `for`'s change at `version`.
 */
export type ControlFrame =
  | { kind: 'interest'; node: string; version: number; patterns: string; acknowledge: boolean }
  | { kind: 'ack'; node: string; version: number; for: string };

export function encodeAck(node: string, version: number, forNode: string): string {
  return `a ${node} ${version} ${forNode}`;
}

export function parseControlFrame(frame: Buffer): ControlFrame | undefined {
  const end = frame.subarray(0, HEADER_MAX).indexOf(NEWLINE);
  const head = frame.subarray(0, end < 0 ? Math.min(frame.length, HEADER_MAX) : end).toString();
  const [kind, node, versionText, forNode] = head.split(' ');
  const version = Number(versionText);
  if (!node || !Number.isSafeInteger(version) || version < 1) return undefined;
  if ((kind === 'i' || kind === 'u') && end >= 0) {
    const patterns = frame.subarray(end + 1).toString();
    return { kind: 'interest', node, version, patterns, acknowledge: kind === 'i' };
  }
  if (kind === 'a' && forNode) return { kind: 'ack', node, version, for: forNode };
  return undefined;
}

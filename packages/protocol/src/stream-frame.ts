import { badFrame } from './decode-limits.js';
import { topicProblem } from './topics.js';

/**
 * Binary stream frames (docs/protocol.md, "Binary streams"). A binary WebSocket frame whose first
 * byte is 0xC1 is a stream frame; any other binary frame is MessagePack. 0xC1 is the one byte
 * MessagePack never uses, so no MessagePack value (and no message, which is a map) starts with
 * it, and telling the two apart costs one byte comparison.
 *
 * - chunk (device → edge): `C1 <channel: u8, 1–255> <payload…>`; the channel is the one the
 *   device named in `stream_open`.
 * - relay (edge → listener, and between edges): `C1 01 <topic length: u8> <topic: UTF-8>
 *   <seq: u32 big-endian> <payload…>`; `seq` counts the stream's chunks from 0, so a listener
 *   sees what it missed.
 *
 * The payload is never copied into a new encoding: the edge reads the channel, prepends the relay
 * header and writes the bytes as they came.
 */
export const STREAM_FRAME_MARKER = 0xc1;
export const RELAY_FRAME_VERSION = 1;
/** Most bytes a relay header takes: marker, version, length, a 255-byte topic, seq. */
export const MAX_RELAY_HEADER_BYTES = 3 + 255 + 4;

const utf8 = new TextDecoder('utf-8', { fatal: true });
const utf8Encoder = new TextEncoder();

export interface StreamChunk {
  channel: number;
  payload: Uint8Array;
}

export interface RelayFrame {
  topic: string;
  seq: number;
  payload: Uint8Array;
}

export function isStreamFrame(bytes: Uint8Array): boolean {
  return bytes.length > 0 && bytes[0] === STREAM_FRAME_MARKER;
}

/** A device's chunk; throws ProtocolError(`bad_frame`). The payload is a view, not a copy. */
export function decodeStreamChunk(bytes: Uint8Array): StreamChunk {
  if (!isStreamFrame(bytes)) throw badFrame('not a stream frame (first byte is not 0xC1)');
  if (bytes.length < 2) throw badFrame('stream chunk without a channel');
  const channel = bytes[1] as number;
  if (channel === 0) throw badFrame('stream channel 0 is reserved');
  return { channel, payload: bytes.subarray(2) };
}

export function encodeStreamChunk(channel: number, payload: Uint8Array): Uint8Array {
  if (!Number.isInteger(channel) || channel < 1 || channel > 255) {
    throw new RangeError(`stream channel ${channel}: 1–255`);
  }
  const frame = new Uint8Array(2 + payload.length);
  frame[0] = STREAM_FRAME_MARKER;
  frame[1] = channel;
  frame.set(payload, 2);
  return frame;
}

/** The relay header for a topic, written once per stream and reused for every chunk. */
export function relayHeader(topic: string): Uint8Array {
  const name = utf8Encoder.encode(topic);
  if (name.length > 255) throw new RangeError('stream topic over 255 bytes');
  const header = new Uint8Array(3 + name.length + 4);
  header[0] = STREAM_FRAME_MARKER;
  header[1] = RELAY_FRAME_VERSION;
  header[2] = name.length;
  header.set(name, 3);
  return header;
}

/** header + seq + payload in one buffer: one copy of the payload, no re-encoding. */
export function encodeRelayFrame(header: Uint8Array, seq: number, payload: Uint8Array): Uint8Array {
  const frame = new Uint8Array(header.length + payload.length);
  frame.set(header, 0);
  new DataView(frame.buffer, frame.byteOffset, frame.byteLength).setUint32(
    header.length - 4,
    seq >>> 0,
  );
  frame.set(payload, header.length);
  return frame;
}

/**
 * A relay frame (from another edge, or at a listener); throws ProtocolError(`bad_frame`). Only
 * fixed-size reads: the topic length is one byte, so nothing here can be made to allocate more
 * than the frame itself.
 */
export function decodeRelayFrame(bytes: Uint8Array): RelayFrame {
  if (!isStreamFrame(bytes)) throw badFrame('not a stream frame (first byte is not 0xC1)');
  if (bytes.length < 3) throw badFrame('relay frame shorter than its header');
  if (bytes[1] !== RELAY_FRAME_VERSION) throw badFrame(`relay frame version ${bytes[1]}`);
  const length = bytes[2] as number;
  const seqAt = 3 + length;
  if (length === 0 || bytes.length < seqAt + 4)
    throw badFrame('relay frame shorter than its header');
  let topic: string;
  try {
    topic = utf8.decode(bytes.subarray(3, seqAt));
  } catch (cause) {
    throw badFrame('relay topic is not valid UTF-8', cause);
  }
  const problem = topicProblem(topic);
  if (problem) throw badFrame(`relay topic: ${problem}`);
  const seq = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(seqAt);
  return { topic, seq, payload: bytes.subarray(seqAt + 4) };
}

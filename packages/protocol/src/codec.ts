import { decode, encode } from '@msgpack/msgpack';

import { ErrorCode } from './codes.js';
import { DEFAULT_DECODE_LIMITS, badFrame, type DecodeLimits } from './decode-limits.js';
import { refOfRefusedFrame } from './frame-ref.js';
import { checkJsonShape } from './json-shape.js';
import type { ServerMessage, WireFormat } from './messages.js';
import { checkMsgpackShape } from './msgpack-shape.js';
import { ProtocolError } from './protocol-error.js';

export { ProtocolError } from './protocol-error.js';

const utf8 = new TextDecoder('utf-8', { fatal: true });

function asBytes(input: ArrayBuffer | Uint8Array | string): Uint8Array {
  if (typeof input === 'string') return new TextEncoder().encode(input);
  return input instanceof Uint8Array ? input : new Uint8Array(input);
}

/**
 * JSON text → value, bounded: the shape is checked on the bytes first (DecodeLimits), so what
 * JSON.parse builds is never deeper, wider or longer than the limits. For every untrusted JSON
 * input: frames, HTTP bodies, query parameters, log records. Throws ProtocolError
 * (`limit_exceeded` or `bad_frame`).
 */
export function decodeJson(
  input: ArrayBuffer | Uint8Array | string,
  limits: DecodeLimits = DEFAULT_DECODE_LIMITS,
): unknown {
  const bytes = asBytes(input);
  checkJsonShape(bytes, limits);
  let text: string;
  try {
    // Always the text of the bytes that were checked (a string's lone surrogates became U+FFFD).
    text = utf8.decode(bytes);
  } catch (cause) {
    throw badFrame('text is not valid UTF-8', cause);
  }
  try {
    return JSON.parse(text);
  } catch (cause) {
    throw badFrame('not valid JSON', cause);
  }
}

/** MessagePack bytes → value, bounded like decodeJson and limited to JSON's value model. */
export function decodeMsgpack(
  input: ArrayBuffer | Uint8Array,
  limits: DecodeLimits = DEFAULT_DECODE_LIMITS,
): unknown {
  const bytes = asBytes(input);
  checkMsgpackShape(bytes, limits);
  try {
    return decode(bytes, {
      maxStrLength: limits.maxStringBytes,
      maxArrayLength: limits.maxItems,
      maxMapLength: limits.maxKeys,
      maxBinLength: 0,
      maxExtLength: 0,
    });
  } catch (cause) {
    throw badFrame('not valid MessagePack', cause);
  }
}

/**
 * Text frames carry JSON, binary frames MessagePack. Throws ProtocolError (`bad_frame` or
 * `limit_exceeded`), with the frame's `id` as `ref` when it could be read cheaply.
 */
export function decodeFrame(
  frame: ArrayBuffer | Uint8Array,
  isBinary: boolean,
  limits: DecodeLimits = DEFAULT_DECODE_LIMITS,
): unknown {
  const bytes = asBytes(frame);
  try {
    return isBinary ? decodeMsgpack(bytes, limits) : decodeJson(bytes, limits);
  } catch (error) {
    if (!(error instanceof ProtocolError)) throw error;
    const what = isBinary ? 'MessagePack' : 'JSON';
    const message =
      error.code === ErrorCode.BadFrame
        ? `frame is not valid ${what}: ${error.message}`
        : error.message;
    throw new ProtocolError(error.code, message, refOfRefusedFrame(bytes, isBinary), {
      cause: error.cause ?? error,
    });
  }
}

/** JSON → string (a text frame), MessagePack → bytes (a binary frame). */
export function encodeMessage(message: ServerMessage, format: WireFormat): string | Uint8Array {
  return format === 'json' ? JSON.stringify(message) : encode(message, { ignoreUndefined: true });
}

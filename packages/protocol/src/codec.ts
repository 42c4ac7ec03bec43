import { decode, encode } from '@msgpack/msgpack';

import { ErrorCode } from './codes.js';
import type { ServerMessage, WireFormat } from './messages.js';

/** A frame that cannot become a message; `code` goes to the client in an `error` message. */
export class ProtocolError extends Error {
  override readonly name = 'ProtocolError';
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly ref?: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Text frames carry JSON, binary frames MessagePack. Throws ProtocolError(bad_frame). */
export function decodeFrame(frame: ArrayBuffer | Uint8Array, isBinary: boolean): unknown {
  const bytes = frame instanceof Uint8Array ? frame : new Uint8Array(frame);
  try {
    return isBinary ? decode(bytes) : JSON.parse(utf8.decode(bytes));
  } catch (cause) {
    const what = isBinary ? 'MessagePack' : 'JSON';
    throw new ProtocolError(ErrorCode.BadFrame, `frame is not valid ${what}`, undefined, { cause });
  }
}

/** JSON → string (a text frame), MessagePack → bytes (a binary frame). */
export function encodeMessage(message: ServerMessage, format: WireFormat): string | Uint8Array {
  return format === 'json' ? JSON.stringify(message) : encode(message, { ignoreUndefined: true });
}

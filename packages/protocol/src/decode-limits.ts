import { ErrorCode } from './codes.js';
import { ProtocolError } from './protocol-error.js';

/**
 * Bounds on the shape of an untrusted value, checked on the raw bytes before anything parses or
 * walks it: a frame that passes can be parsed, validated, re-encoded and stored without deep
 * recursion or outsized allocations. docs/protocol.md ("Limits") is the reader's copy.
 */
export interface DecodeLimits {
  /** Deepest nesting of objects/arrays, the outermost one counting as 1. */
  maxDepth: number;
  /** Most keys in one object. */
  maxKeys: number;
  /** Most items in one array. */
  maxItems: number;
  /** Longest string (keys included), in UTF-8 bytes as sent (JSON escapes count as written). */
  maxStringBytes: number;
}

export const DEFAULT_DECODE_LIMITS: Readonly<DecodeLimits> = Object.freeze({
  maxDepth: 16,
  maxKeys: 256,
  maxItems: 4096,
  maxStringBytes: 16 * 1024,
});

/** A value over one of the DecodeLimits: answered with `error` `limit_exceeded`. */
export function limitExceeded(message: string): ProtocolError {
  return new ProtocolError(ErrorCode.LimitExceeded, message);
}

/** A value that cannot be decoded or stored (bad syntax, bad UTF-8, U+0000, lone surrogates). */
export function badFrame(message: string, cause?: unknown): ProtocolError {
  return new ProtocolError(
    ErrorCode.BadFrame,
    message,
    undefined,
    cause === undefined ? undefined : { cause },
  );
}

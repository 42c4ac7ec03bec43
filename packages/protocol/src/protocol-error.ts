import type { ErrorCode } from './codes.js';

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

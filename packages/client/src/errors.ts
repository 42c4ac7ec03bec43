export type ClientErrorCode =
  'CLIENT_CLOSED' | 'QUEUE_FULL' | 'NACKED' | 'SERVER_ERROR' | 'REPLACED';

/** Every failure the SDK reports: a stable `code`, and for nacks the server's reason. */
export class FleetwireClientError extends Error {
  override readonly name = 'FleetwireClientError';
  constructor(
    readonly code: ClientErrorCode,
    message: string,
    /** The nack reason (`offline`, `timeout`, …) or server error code. */
    readonly reason?: string,
  ) {
    super(message);
  }
}

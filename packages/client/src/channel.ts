/**
 * How a sub-device or a stream reaches the connection it rides on, without seeing the client's
 * internals: frames that wait for an ack, frames sent as they are, and binary stream chunks.
 */
export interface ClientChannel {
  request(frame: Record<string, unknown>, resend: boolean): Promise<unknown>;
  fireAndForget(frame: Record<string, unknown>): Promise<void>;
  /** Writes bytes as one binary frame; false when not connected (the bytes are dropped). */
  sendBinary(bytes: Uint8Array): boolean;
  /** Bytes the socket has not sent yet (0 where the WebSocket implementation does not say). */
  bufferedAmount(): number;
}

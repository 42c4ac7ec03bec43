import { encodeStreamChunk } from '@fleetwire/protocol/stream-frame';

import type { ClientChannel } from './channel.js';

export interface StreamOptions {
  /** Announced to listeners with the stream's opening (e.g. `{ rate: 16000, bits: 16 }`). */
  meta?: Record<string, unknown>;
}

/**
 * A binary stream this device (or one of a gateway's sub-devices) sends on
 * `devices/<id>/streams/<name>`. Chunks are best effort: written while connected, dropped while
 * not (a stream is live data; nothing is queued). After a reconnect the stream is opened again.
 */
export class DeviceStream {
  private closed = false;

  constructor(
    private readonly channel: ClientChannel,
    /** The byte that names this stream in its chunks (1–255). */
    readonly id: number,
    readonly name: string,
    private readonly openFrame: Record<string, unknown>,
    private readonly release: () => void,
  ) {}

  /** The stream_open frame, sent again after every reconnect. */
  get opening(): Record<string, unknown> {
    return this.openFrame;
  }

  get isOpen(): boolean {
    return !this.closed;
  }

  /**
   * Sends one chunk (at most the edge's payload limit, 16 KiB by default, minus 2 bytes). False
   * when it was dropped: not connected, or the stream is closed.
   */
  write(chunk: Uint8Array): boolean {
    if (this.closed) return false;
    return this.channel.sendBinary(encodeStreamChunk(this.id, chunk));
  }

  /** Bytes written and not yet on the wire: pace a producer on it. */
  get bufferedAmount(): number {
    return this.channel.bufferedAmount();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.release();
    await this.channel.request({ type: 'stream_close', channel: this.id }, false);
  }
}

/**
 * The one WebSocket client every server under test gets: a TCP socket, an HTTP upgrade and a
 * frame scanner, no library. A library client (`ws`) parses a frame in about a microsecond, so
 * 1,000 subscribers of a 2-million-delivery fan-out would measure the client, not the server;
 * scanning only the frame headers and searching the payload for a marker keeps the client's cost
 * per delivery far below the fastest server's.
 */
import { randomBytes } from 'node:crypto';
import { connect, type Socket } from 'node:net';

export interface WireOptions {
  host: string;
  port: number;
  /** Path and query of the upgrade request. */
  path: string;
  headers?: Record<string, string>;
  /** Source address (several 127.0.0.x spread sockets past one pair's ephemeral ports). */
  localAddress?: string;
  /** A text or binary frame's payload (a view into the socket's buffer: copy to keep). */
  onFrame(payload: Buffer): void;
  onClose?(): void;
}

const OP_TEXT = 0x1;
const OP_CLOSE = 0x8;
const OP_PING = 0x9;
const OP_PONG = 0xa;

/** A client frame: masked with a zero key, which leaves the payload as it is (RFC 6455 5.3). */
export function clientFrame(payload: Buffer, opcode = OP_TEXT): Buffer {
  const length = payload.length;
  const extra = length < 126 ? 0 : length < 65536 ? 2 : 8;
  const header = Buffer.alloc(2 + extra + 4);
  header[0] = 0x80 | opcode;
  if (extra === 0) header[1] = 0x80 | length;
  else if (extra === 2) {
    header[1] = 0x80 | 126;
    header.writeUInt16BE(length, 2);
  } else {
    header[1] = 0x80 | 127;
    header.writeBigUInt64BE(BigInt(length), 2);
  }
  return Buffer.concat([header, payload]);
}

export class WireSocket {
  private readonly socket: Socket;
  private pending: Buffer | undefined;
  private upgraded = false;
  private closed = false;
  readonly ready: Promise<void>;
  /** Text frames after the session opened that are not deliveries (acks, answers). */
  onText: ((frame: string) => void) | undefined;

  constructor(private readonly options: WireOptions) {
    this.socket = connect({
      host: options.host,
      port: options.port,
      ...(options.localAddress ? { localAddress: options.localAddress } : {}),
    });
    this.socket.setNoDelay(true);
    this.ready = new Promise((resolve, reject) => {
      this.socket.once('connect', () => {
        const headers = Object.entries(options.headers ?? {})
          .map(([name, value]) => `${name}: ${value}\r\n`)
          .join('');
        this.socket.write(
          `GET ${options.path} HTTP/1.1\r\nHost: ${options.host}:${options.port}\r\n` +
            'Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n' +
            `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\n${headers}\r\n`,
        );
      });
      this.socket.on('data', (chunk: Buffer) => {
        if (this.upgraded) return this.scan(chunk);
        const data = this.pending ? Buffer.concat([this.pending, chunk]) : chunk;
        const end = data.indexOf('\r\n\r\n');
        if (end < 0) {
          this.pending = data;
          return;
        }
        this.pending = undefined;
        const status = data.subarray(0, data.indexOf('\r\n')).toString();
        if (!status.startsWith('HTTP/1.1 101')) {
          reject(new Error(`upgrade refused: ${status}`));
          this.socket.destroy();
          return;
        }
        this.upgraded = true;
        resolve();
        if (data.length > end + 4) this.scan(data.subarray(end + 4));
      });
      this.socket.once('error', (error) => {
        if (!this.upgraded) reject(error);
      });
      this.socket.once('close', () => {
        if (!this.upgraded) reject(new Error('closed before the upgrade'));
        this.closed = true;
        options.onClose?.();
      });
    });
  }

  get isClosed(): boolean {
    return this.closed;
  }

  send(text: string): void {
    this.socket.write(clientFrame(Buffer.from(text)));
  }

  close(): void {
    this.socket.destroy();
  }

  private scan(chunk: Buffer): void {
    let data = this.pending ? Buffer.concat([this.pending, chunk]) : chunk;
    this.pending = undefined;
    let offset = 0;
    for (;;) {
      if (data.length - offset < 2) break;
      const opcode = data[offset]! & 0x0f;
      let length = data[offset + 1]! & 0x7f;
      let start = offset + 2;
      if (length === 126) {
        if (data.length - offset < 4) break;
        length = data.readUInt16BE(offset + 2);
        start += 2;
      } else if (length === 127) {
        if (data.length - offset < 10) break;
        length = Number(data.readBigUInt64BE(offset + 2));
        start += 8;
      }
      const end = start + length;
      if (end > data.length) break;
      const payload = data.subarray(start, end);
      if (opcode === OP_PING) this.socket.write(clientFrame(Buffer.from(payload), OP_PONG));
      else if (opcode === OP_CLOSE) this.socket.end();
      else if (opcode !== OP_PONG) this.options.onFrame(payload);
      offset = end;
    }
    if (offset < data.length) {
      data = data.subarray(offset);
      this.pending = Buffer.from(data);
    }
  }
}

/** How many times `marker` occurs in `payload` (Centrifugo may put several messages in a frame). */
export function countMarker(payload: Buffer, marker: Buffer): number {
  let count = 0;
  let at = payload.indexOf(marker);
  while (at >= 0) {
    count += 1;
    at = payload.indexOf(marker, at + marker.length);
  }
  return count;
}

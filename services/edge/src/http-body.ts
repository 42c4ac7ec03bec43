import type { HttpResponse } from 'uWebSockets.js';

export class BodyTooLargeError extends Error {
  override readonly name = 'BodyTooLargeError';
  readonly code = 'body_too_large';
}

/**
 * Reads a request body. uWS hands out chunks that are neutered after the callback, so each is
 * copied. The caller must have registered onAborted before calling this. `contentLength`, the
 * header as sent: a body announced over the limit is refused at once, not after it arrived.
 */
export function readBody(res: HttpResponse, maxBytes: number, contentLength = ''): Promise<Buffer> {
  if (/^\d+$/.test(contentLength) && Number(contentLength) > maxBytes) {
    return Promise.reject(
      new BodyTooLargeError(`body of ${contentLength} bytes announced, over ${maxBytes}`),
    );
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let failed = false;
    res.onData((chunk, isLast) => {
      if (failed) return;
      size += chunk.byteLength;
      if (size > maxBytes) {
        failed = true;
        reject(new BodyTooLargeError(`body over ${maxBytes} bytes`));
        return;
      }
      chunks.push(Buffer.from(chunk.slice(0)));
      if (isLast) resolve(Buffer.concat(chunks));
    });
  });
}

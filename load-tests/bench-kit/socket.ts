import WebSocket from 'ws';

import { benchToken } from './tokens.js';

export interface OpenOptions {
  /** Off by default in `ws`'s client too, said here because a bench must not compress. */
  perMessageDeflate?: boolean;
  path?: string;
}

/** A JSON-protocol client on a bench edge, resolved once the edge's welcome arrived. */
export function openBenchSocket(
  port: number,
  sub: string,
  role: string,
  options: OpenOptions = {},
): Promise<WebSocket> {
  const url = `ws://127.0.0.1:${port}${options.path ?? '/ws'}?token=${benchToken(sub, role)}`;
  const ws = new WebSocket(url, { perMessageDeflate: options.perMessageDeflate ?? false });
  return new Promise((resolve, reject) => {
    ws.once('message', () => resolve(ws)); // welcome
    ws.once('error', reject);
  });
}

/**
 * Where a connection's token may come from, in order: `Authorization: Bearer …` (clients that
 * can set headers), a `bearer.<jwt>` entry in Sec-WebSocket-Protocol (browsers cannot set
 * headers), `?token=` (small device libraries).
 */
export interface TokenCarriers {
  authorization: string;
  protocols: string;
  query: string;
}

export const BEARER_PROTOCOL_PREFIX = 'bearer.';

export function extractToken({
  authorization,
  protocols,
  query,
}: TokenCarriers): string | undefined {
  const header = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
  if (header) return header[1];
  for (const entry of protocols.split(',')) {
    const protocol = entry.trim();
    if (protocol.startsWith(BEARER_PROTOCOL_PREFIX)) {
      return protocol.slice(BEARER_PROTOCOL_PREFIX.length);
    }
  }
  const fromQuery = new URLSearchParams(query).get('token');
  return fromQuery === null || fromQuery === '' ? undefined : fromQuery;
}

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
  const header = bearerOf(authorization);
  if (header !== undefined) return header;
  if (protocols.includes(BEARER_PROTOCOL_PREFIX)) {
    for (const entry of protocols.split(',')) {
      const protocol = entry.trim();
      if (protocol.startsWith(BEARER_PROTOCOL_PREFIX)) {
        return protocol.slice(BEARER_PROTOCOL_PREFIX.length);
      }
    }
  }
  if (!query.includes('token=')) return undefined;
  const fromQuery = new URLSearchParams(query).get('token');
  return fromQuery === null || fromQuery === '' ? undefined : fromQuery;
}

const WHITESPACE = /\s/;

/**
 * `Bearer <token>` (scheme in any case, the token without whitespace), as
 * /^Bearer\s+(\S+)\s*$/i, without a regular expression over the whole header on every upgrade.
 */
function bearerOf(authorization: string): string | undefined {
  if (authorization.length < 8 || authorization.slice(0, 6).toLowerCase() !== 'bearer') {
    return undefined;
  }
  const rest = authorization.slice(6);
  if (!WHITESPACE.test(rest[0]!)) return undefined;
  const token = rest.trim();
  if (token === '' || WHITESPACE.test(token)) return undefined;
  return token;
}

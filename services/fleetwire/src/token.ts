import { FleetwireClaims, ROLES, type Role } from '@fleetwire/auth';
import jwt from 'jsonwebtoken';

/** How long a token lives: a number and a unit (`s`, `m`, `h`, `d`), e.g. `1h`, `30d`. */
export function ttlSeconds(ttl: string): number | undefined {
  const m = /^(\d{1,9})([smhd])$/.exec(ttl);
  if (!m) return undefined;
  return Number(m[1]) * { s: 1, m: 60, h: 3600, d: 86_400 }[m[2] as 's' | 'm' | 'h' | 'd'];
}

export class TokenRequestError extends Error {
  override readonly name = 'TokenRequestError';
  readonly code = 'FLEETWIRE_BAD_TOKEN_REQUEST';
}

export interface TokenRequest {
  role: string;
  sub: string;
  tenant: string;
  ttl: string;
  /** A gateway's sub-devices (`--subdevices`, `--subdevice-pattern`). */
  subdevices?: { ids?: string[]; pattern?: string };
}

export interface SigningKey {
  /** HS256 secret, as the edge verifies it. */
  secret: string;
  issuer?: string;
  audience?: string;
}

/**
 * The claims and lifetime of a token request, checked with the same schema the verifier
 * applies, so a token minted from them is never refused for its claims.
 */
export function tokenClaims(request: TokenRequest): {
  claims: FleetwireClaims;
  expiresIn: number;
} {
  if (!(ROLES as readonly string[]).includes(request.role)) {
    throw new TokenRequestError(
      `--role ${request.role || '(missing)'}: must be one of ${ROLES.join(', ')}`,
    );
  }
  const expiresIn = ttlSeconds(request.ttl);
  if (expiresIn === undefined || expiresIn === 0) {
    throw new TokenRequestError(`--ttl ${request.ttl}: use a number and a unit: 30m, 1h, 7d`);
  }
  const claims = FleetwireClaims.safeParse({
    sub: request.sub,
    role: request.role as Role,
    tenant: request.tenant,
    ...(request.subdevices === undefined ? {} : { subdevices: request.subdevices }),
  });
  if (!claims.success) {
    const issue = claims.error.issues[0];
    const flag =
      issue?.path[0] === 'subdevices' ? '--subdevices' : `--${String(issue?.path[0] ?? 'sub')}`;
    throw new TokenRequestError(
      `${flag} ${JSON.stringify(request[flag.slice(2) as 'sub'])}: ${issue?.message}`,
    );
  }
  return { claims: claims.data, expiresIn };
}

/** A token the embedded edge (or any edge sharing the key) accepts. */
export function mintToken(key: SigningKey, request: TokenRequest): string {
  const { claims, expiresIn } = tokenClaims(request);
  return jwt.sign(claims, key.secret, {
    algorithm: 'HS256',
    expiresIn,
    ...(key.issuer ? { issuer: key.issuer } : {}),
    ...(key.audience ? { audience: key.audience } : {}),
  });
}

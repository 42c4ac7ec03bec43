import jwt from 'jsonwebtoken';

export interface TokenIssuer {
  secret: string;
  issuer: string;
  audience: string;
}

/** An HS256 token as the cluster's edges verify it (iss, aud, exp in one hour). */
export function mintToken(
  issuer: TokenIssuer,
  claims: { sub: string; role: 'device' | 'dashboard' | 'service'; tenant: string },
): string {
  return jwt.sign(claims, issuer.secret, {
    algorithm: 'HS256',
    expiresIn: '1h',
    issuer: issuer.issuer,
    audience: issuer.audience,
  });
}

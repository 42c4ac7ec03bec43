// HS256 JWTs as the edge verifies them (sub, role, tenant, exp; iss/aud when given), minted inside
// k6 so a fleet of thousands needs no token files.
import crypto from 'k6/crypto';
import encoding from 'k6/encoding';

function base64url(text) {
  return encoding.b64encode(text, 'rawurl');
}

export function mintToken(secret, claims, { issuer, audience, ttlSec = 3600 } = {}) {
  const now = Math.floor(Date.now() / 1000);
  const payload = { ...claims, iat: now, exp: now + ttlSec };
  if (issuer) payload.iss = issuer;
  if (audience) payload.aud = audience;
  const unsigned = `${base64url(JSON.stringify({ alg: 'HS256', typ: 'JWT' }))}.${base64url(JSON.stringify(payload))}`;
  return `${unsigned}.${crypto.hmac('sha256', secret, unsigned, 'base64rawurl')}`;
}

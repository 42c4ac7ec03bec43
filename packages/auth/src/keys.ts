import { createPublicKey, createSecretKey, type JsonWebKey, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';

export type Algorithm = 'HS256' | 'RS256' | 'ES256';

/** One key that may verify tokens, and the only algorithm it may verify. */
export interface VerificationKey {
  alg: Algorithm;
  key: KeyObject;
  /** Matched against the token header's `kid` when both have one. */
  kid?: string;
}

export interface KeySources {
  /** Shared secret for HS256 (at least 32 bytes). */
  hs256Secret?: string | undefined;
  /** PEM files of RSA (RS256) or P-256 EC (ES256) public keys or certificates. */
  publicKeyFiles?: string[] | undefined;
  /** A JWKS file ({"keys":[…]}) of RSA or P-256 EC public keys. */
  jwksFile?: string | undefined;
}

export class KeyLoadError extends Error {
  override readonly name = 'KeyLoadError';
  readonly code = 'AUTH_KEY_LOAD';
}

/**
 * Binding each key to one algorithm is what defeats algorithm confusion: an RS256 public key
 * is never handed to HMAC, and `none` matches no key at all.
 */
export function algorithmOf(key: KeyObject, source: string): Algorithm {
  if (key.asymmetricKeyType === 'rsa') return 'RS256';
  if (key.asymmetricKeyType === 'ec' && key.asymmetricKeyDetails?.namedCurve === 'prime256v1') {
    return 'ES256';
  }
  const kind = `${key.asymmetricKeyType ?? key.type}${
    key.asymmetricKeyDetails?.namedCurve ? ` ${key.asymmetricKeyDetails.namedCurve}` : ''
  }`;
  throw new KeyLoadError(`${source}: unsupported key type ${kind} (use RSA or EC P-256)`);
}

function read(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (cause) {
    throw new KeyLoadError(`cannot read key file ${file}`, { cause });
  }
}

export function loadVerificationKeys(sources: KeySources): VerificationKey[] {
  const keys: VerificationKey[] = [];
  if (sources.hs256Secret !== undefined && sources.hs256Secret !== '') {
    if (Buffer.byteLength(sources.hs256Secret) < 32) {
      throw new KeyLoadError('the HS256 secret must be at least 32 bytes');
    }
    keys.push({ alg: 'HS256', key: createSecretKey(Buffer.from(sources.hs256Secret)) });
  }
  for (const file of sources.publicKeyFiles ?? []) {
    let key: KeyObject;
    try {
      key = createPublicKey(read(file));
    } catch (cause) {
      if (cause instanceof KeyLoadError) throw cause;
      throw new KeyLoadError(`${file}: not a PEM public key or certificate`, { cause });
    }
    keys.push({ alg: algorithmOf(key, file), key });
  }
  if (sources.jwksFile) {
    let jwks: { keys?: unknown };
    try {
      jwks = JSON.parse(read(sources.jwksFile)) as { keys?: unknown };
    } catch (cause) {
      if (cause instanceof KeyLoadError) throw cause;
      throw new KeyLoadError(`${sources.jwksFile}: not JSON`, { cause });
    }
    if (!Array.isArray(jwks.keys)) throw new KeyLoadError(`${sources.jwksFile}: no "keys" array`);
    jwks.keys.forEach((jwk: JsonWebKey & { kid?: string }, i) => {
      const where = `${sources.jwksFile} key ${jwk.kid ?? i}`;
      let key: KeyObject;
      try {
        key = createPublicKey({ key: jwk, format: 'jwk' });
      } catch (cause) {
        throw new KeyLoadError(`${where}: not a public JWK`, { cause });
      }
      keys.push({ alg: algorithmOf(key, where), key, ...(jwk.kid ? { kid: jwk.kid } : {}) });
    });
  }
  if (keys.length === 0) {
    throw new KeyLoadError('no verification key configured (HS256 secret, PEM files or JWKS)');
  }
  return keys;
}

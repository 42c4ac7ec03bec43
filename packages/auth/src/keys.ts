import { createPublicKey, createSecretKey, type JsonWebKey, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createSecureContext } from 'node:tls';

import { z } from 'zod';

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

/** Most keys a fetched JWKS may hold; real providers publish two or three. */
export const MAX_JWKS_KEYS = 100;

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

/**
 * The keys of the static sources (secret, PEM files, JWKS file); empty when none is set. Every
 * key that is set must load: a typo in a key file stops the service instead of refusing tokens.
 */
export function loadStaticKeys(sources: KeySources): VerificationKey[] {
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
  return keys;
}

export function loadVerificationKeys(sources: KeySources): VerificationKey[] {
  const keys = loadStaticKeys(sources);
  if (keys.length === 0) {
    throw new KeyLoadError('no verification key configured (HS256 secret, PEM files or JWKS)');
  }
  return keys;
}

/** A CA bundle (PEM) to trust for a JWKS endpoint; refused now if it is not one. */
export function loadCaFile(file: string): string {
  const ca = read(file);
  try {
    createSecureContext({ ca });
  } catch (cause) {
    throw new KeyLoadError(`${file}: not a PEM CA certificate`, { cause });
  }
  if (!ca.includes('-----BEGIN CERTIFICATE-----')) {
    throw new KeyLoadError(`${file}: not a PEM CA certificate`);
  }
  return ca;
}

/** What a fetched JWKS document must look like before any key in it is looked at. */
export const JwksDocument = z.object({
  keys: z
    .array(z.record(z.string(), z.unknown()))
    .max(MAX_JWKS_KEYS, `more than ${MAX_JWKS_KEYS} keys`),
});

/** Only RSA keys of at least this size are used (jsonwebtoken refuses smaller ones anyway). */
const MIN_RSA_BITS = 2048;

/**
 * The usable signing keys of a fetched JWKS. A provider's set may hold keys that are not ours to
 * use (Keycloak publishes an `enc` key next to its signing key): those are skipped and named in
 * `skipped`, never bound to an algorithm they were not published for. Symmetric (`oct`) keys and
 * keys with private parts are never taken from a URL.
 */
export function remoteJwksKeys(
  document: z.infer<typeof JwksDocument>,
  source: string,
): { keys: VerificationKey[]; skipped: string[] } {
  const keys: VerificationKey[] = [];
  const skipped: string[] = [];
  const kids = new Set<string>();
  document.keys.forEach((jwk, i) => {
    const kid = typeof jwk['kid'] === 'string' && jwk['kid'] !== '' ? jwk['kid'] : undefined;
    const name = kid ?? `#${i}`;
    const skip = (why: string): void => {
      skipped.push(`${name}: ${why}`);
    };
    if (jwk['use'] !== undefined && jwk['use'] !== 'sig') return skip(`use ${String(jwk['use'])}`);
    if (
      jwk['key_ops'] !== undefined &&
      !(Array.isArray(jwk['key_ops']) && jwk['key_ops'].includes('verify'))
    ) {
      return skip('key_ops without verify');
    }
    if (jwk['kty'] !== 'RSA' && jwk['kty'] !== 'EC') return skip(`kty ${String(jwk['kty'])}`);
    if (jwk['d'] !== undefined) return skip('holds a private key');
    if (kid !== undefined && kids.has(kid)) return skip('duplicate kid');
    let key: KeyObject;
    let alg: Algorithm;
    try {
      key = createPublicKey({ key: jwk as JsonWebKey, format: 'jwk' });
      alg = algorithmOf(key, `${source} key ${name}`);
    } catch {
      return skip('not a usable RSA or P-256 public key');
    }
    if (jwk['alg'] !== undefined && jwk['alg'] !== alg) {
      return skip(`published for ${String(jwk['alg'])}, not ${alg}`);
    }
    if (alg === 'RS256' && (key.asymmetricKeyDetails?.modulusLength ?? 0) < MIN_RSA_BITS) {
      return skip(`RSA key under ${MIN_RSA_BITS} bits`);
    }
    if (kid !== undefined) kids.add(kid);
    keys.push({ alg, key, ...(kid === undefined ? {} : { kid }) });
  });
  return { keys, skipped };
}

import { envVar, optional } from '@fleetwire/config';
import type { z } from 'zod';

import type { KeySources } from './keys.js';
import type { VerifyOptions } from './verify.js';

/**
 * The token settings every service that verifies Fleetwire tokens reads, defined once so the
 * edge, the ingest read API and the embedded mode accept exactly the same tokens. Spread into a
 * service's env schema; turn the parsed values into settings with `authSettings`.
 */
export const AUTH_ENV = {
  FLEETWIRE_JWT_HS256_SECRET: envVar.string(),
  FLEETWIRE_JWT_PUBLIC_KEY_FILES: envVar.list(),
  FLEETWIRE_JWT_JWKS_FILE: envVar.string(),
  FLEETWIRE_JWT_ISSUER: envVar.string(),
  FLEETWIRE_JWT_AUDIENCE: envVar.string(),
  FLEETWIRE_JWT_CLOCK_SKEW_SEC: envVar.int(30, { max: 3600 }),
  FLEETWIRE_JWT_REQUIRE_EXP: envVar.bool(true),
  FLEETWIRE_TENANTS: envVar.list(),
};

type AuthEnvValues = z.output<z.ZodObject<typeof AUTH_ENV>>;

/** Where keys come from and how tokens are checked: `loadVerificationKeys` + `TokenVerifier`. */
export interface AuthSettings extends KeySources, VerifyOptions {
  hs256Secret?: string;
  publicKeyFiles?: string[];
  jwksFile?: string;
  issuer?: string;
  audience?: string;
  allowedTenants?: string[];
}

export function authSettings(e: AuthEnvValues): AuthSettings {
  return {
    ...optional('hs256Secret', e.FLEETWIRE_JWT_HS256_SECRET),
    ...optional('publicKeyFiles', e.FLEETWIRE_JWT_PUBLIC_KEY_FILES),
    ...optional('jwksFile', e.FLEETWIRE_JWT_JWKS_FILE),
    ...optional('issuer', e.FLEETWIRE_JWT_ISSUER),
    ...optional('audience', e.FLEETWIRE_JWT_AUDIENCE),
    clockToleranceSec: e.FLEETWIRE_JWT_CLOCK_SKEW_SEC,
    requireExpiry: e.FLEETWIRE_JWT_REQUIRE_EXP,
    ...optional('allowedTenants', e.FLEETWIRE_TENANTS),
  };
}

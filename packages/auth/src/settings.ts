import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

import { ConfigError, envVar, optional } from '@fleetwire/config';
import { z } from 'zod';

import type { KeySources } from './keys.js';
import type { VerifyOptions } from './verify.js';

const httpsUrl = z.url({ protocol: /^https$/, error: 'must be an https:// URL' });
const tenant = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$/, 'letters, digits, _ and - (1–63 chars)');

/**
 * The token settings every service that verifies Fleetwire tokens reads, defined once so the
 * edge, the ingest read API and the embedded mode accept exactly the same tokens. Spread into a
 * service's env schema; turn the parsed values into settings with `authSettings`.
 */
export const AUTH_ENV = {
  FLEETWIRE_JWT_HS256_SECRET: envVar.string(),
  FLEETWIRE_JWT_PUBLIC_KEY_FILES: envVar.list(),
  FLEETWIRE_JWT_JWKS_FILE: envVar.string(),
  FLEETWIRE_JWT_JWKS_URL: httpsUrl.optional(),
  FLEETWIRE_JWT_JWKS_CA_FILE: envVar.string(),
  FLEETWIRE_JWT_ISSUER: envVar.string(),
  FLEETWIRE_JWT_AUDIENCE: envVar.string(),
  FLEETWIRE_JWT_ISSUERS_FILE: envVar.string(),
  FLEETWIRE_JWT_JWKS_REFRESH_SEC: envVar.int(600, { min: 10, max: 86_400 }),
  FLEETWIRE_JWT_JWKS_COOLDOWN_SEC: envVar.int(30, { min: 1, max: 3600 }),
  FLEETWIRE_JWT_JWKS_TIMEOUT_MS: envVar.int(5000, { min: 100, max: 60_000 }),
  FLEETWIRE_JWT_CLOCK_SKEW_SEC: envVar.int(30, { max: 3600 }),
  FLEETWIRE_JWT_REQUIRE_EXP: envVar.bool(true),
  FLEETWIRE_TENANTS: envVar.list(),
};

type AuthEnvValues = z.output<z.ZodObject<typeof AUTH_ENV>>;

/** One entry of FLEETWIRE_JWT_ISSUERS_FILE. Relative paths are relative to that file. */
export const IssuerEntry = z
  .strictObject({
    issuer: z.string().min(1),
    audience: z.string().min(1).optional(),
    tenants: z.array(tenant).min(1).optional(),
    hs256Secret: z.string().min(1).optional(),
    publicKeyFiles: z.array(z.string().min(1)).min(1).optional(),
    jwksFile: z.string().min(1).optional(),
    jwksUrl: httpsUrl.optional(),
    jwksCaFile: z.string().min(1).optional(),
  })
  .refine(
    (e) =>
      e.hs256Secret !== undefined ||
      e.publicKeyFiles !== undefined ||
      e.jwksFile !== undefined ||
      e.jwksUrl !== undefined,
    { message: 'needs a key source: hs256Secret, publicKeyFiles, jwksFile or jwksUrl' },
  )
  .refine((e) => e.jwksCaFile === undefined || e.jwksUrl !== undefined, {
    message: 'jwksCaFile goes with jwksUrl',
    path: ['jwksCaFile'],
  });

export const IssuersFile = z.strictObject({
  issuers: z
    .array(IssuerEntry)
    .min(1)
    .max(50)
    .refine((list) => new Set(list.map((e) => e.issuer)).size === list.length, {
      message: 'an issuer is listed twice',
    }),
});

/** A trusted issuer's settings, paths absolute. */
export interface IssuerSettings extends KeySources {
  issuer: string;
  audience?: string;
  allowedTenants?: string[];
  hs256Secret?: string;
  publicKeyFiles?: string[];
  jwksFile?: string;
  jwksUrl?: string;
  jwksCaFile?: string;
}

/** How JWKS URLs are fetched, for every issuer. */
export interface JwksSettings {
  /** Planned refresh period; also the period fetch failures are logged at. */
  refreshSec: number;
  /** At most one fetch per this many seconds for unknown kids; the retry period while failing. */
  cooldownSec: number;
  /** Deadline of one fetch. */
  timeoutMs: number;
}

/**
 * Where keys come from and how tokens are checked. The `FLEETWIRE_JWT_*` keys and
 * issuer/audience/tenants describe one issuer (the single-issuer settings, as ever; without
 * FLEETWIRE_JWT_ISSUER its tokens' `iss` is not checked); `issuers` lists more, each with its own
 * keys. `createTokenVerifier` builds the verifier; `loadVerificationKeys` + `TokenVerifier` still
 * take the static keys of the single issuer.
 */
export interface AuthSettings extends KeySources, VerifyOptions {
  hs256Secret?: string;
  publicKeyFiles?: string[];
  jwksFile?: string;
  /** JWKS endpoint of the single-issuer settings. */
  jwksUrl?: string;
  /** CA bundle to trust for `jwksUrl` instead of the system's. */
  jwksCaFile?: string;
  issuer?: string;
  audience?: string;
  allowedTenants?: string[];
  /** More trusted issuers (FLEETWIRE_JWT_ISSUERS_FILE). */
  issuers?: IssuerSettings[];
  jwks?: JwksSettings;
}

export const DEFAULT_JWKS_SETTINGS: JwksSettings = {
  refreshSec: 600,
  cooldownSec: 30,
  timeoutMs: 5000,
};

/**
 * Reads and validates an issuers file (`{"issuers":[…]}`); every problem is a ConfigError
 * naming FLEETWIRE_JWT_ISSUERS_FILE.
 */
export function readIssuersFile(file: string): IssuerSettings[] {
  const fail = (problem: string): never => {
    throw new ConfigError([`FLEETWIRE_JWT_ISSUERS_FILE: ${file}: ${problem}`]);
  };
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    return fail(error instanceof SyntaxError ? 'not JSON' : 'cannot be read');
  }
  const parsed = IssuersFile.safeParse(json);
  if (!parsed.success) {
    throw new ConfigError(
      parsed.error.issues.map(
        (issue) =>
          `FLEETWIRE_JWT_ISSUERS_FILE: ${file}: ${issue.path.join('.') || '(root)'}: ${issue.message}`,
      ),
    );
  }
  const base = dirname(resolve(file));
  const path = (p: string): string => resolve(base, p);
  return parsed.data.issuers.map((e) => ({
    issuer: e.issuer,
    ...optional('audience', e.audience),
    ...optional('allowedTenants', e.tenants),
    ...optional('hs256Secret', e.hs256Secret),
    ...optional('publicKeyFiles', e.publicKeyFiles?.map(path)),
    ...optional('jwksFile', e.jwksFile === undefined ? undefined : path(e.jwksFile)),
    ...optional('jwksUrl', e.jwksUrl),
    ...optional('jwksCaFile', e.jwksCaFile === undefined ? undefined : path(e.jwksCaFile)),
  }));
}

export function authSettings(e: AuthEnvValues): AuthSettings {
  if (e.FLEETWIRE_JWT_JWKS_CA_FILE !== undefined && e.FLEETWIRE_JWT_JWKS_URL === undefined) {
    throw new ConfigError(['FLEETWIRE_JWT_JWKS_CA_FILE: set it only with FLEETWIRE_JWT_JWKS_URL']);
  }
  const issuers =
    e.FLEETWIRE_JWT_ISSUERS_FILE === undefined
      ? undefined
      : readIssuersFile(e.FLEETWIRE_JWT_ISSUERS_FILE);
  const envHasKeys =
    e.FLEETWIRE_JWT_HS256_SECRET !== undefined ||
    (e.FLEETWIRE_JWT_PUBLIC_KEY_FILES?.length ?? 0) > 0 ||
    e.FLEETWIRE_JWT_JWKS_FILE !== undefined ||
    e.FLEETWIRE_JWT_JWKS_URL !== undefined;
  if (envHasKeys && issuers?.some((i) => i.issuer === e.FLEETWIRE_JWT_ISSUER)) {
    throw new ConfigError([
      `FLEETWIRE_JWT_ISSUERS_FILE: issuer ${e.FLEETWIRE_JWT_ISSUER} is also FLEETWIRE_JWT_ISSUER`,
    ]);
  }
  return {
    ...optional('hs256Secret', e.FLEETWIRE_JWT_HS256_SECRET),
    ...optional('publicKeyFiles', e.FLEETWIRE_JWT_PUBLIC_KEY_FILES),
    ...optional('jwksFile', e.FLEETWIRE_JWT_JWKS_FILE),
    ...optional('jwksUrl', e.FLEETWIRE_JWT_JWKS_URL),
    ...optional('jwksCaFile', e.FLEETWIRE_JWT_JWKS_CA_FILE),
    ...optional('issuer', e.FLEETWIRE_JWT_ISSUER),
    ...optional('audience', e.FLEETWIRE_JWT_AUDIENCE),
    clockToleranceSec: e.FLEETWIRE_JWT_CLOCK_SKEW_SEC,
    requireExpiry: e.FLEETWIRE_JWT_REQUIRE_EXP,
    ...optional('allowedTenants', e.FLEETWIRE_TENANTS),
    ...optional('issuers', issuers),
    jwks: {
      refreshSec: e.FLEETWIRE_JWT_JWKS_REFRESH_SEC,
      cooldownSec: e.FLEETWIRE_JWT_JWKS_COOLDOWN_SEC,
      timeoutMs: e.FLEETWIRE_JWT_JWKS_TIMEOUT_MS,
    },
  };
}

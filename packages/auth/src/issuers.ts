import {
  DEFAULT_JWKS_MAX_BYTES,
  RemoteJwks,
  httpsJwksFetcher,
  type AuthLogger,
  type JwksFetcher,
} from './jwks.js';
import { KeyLoadError, loadCaFile, loadStaticKeys, type KeySources } from './keys.js';
import { DEFAULT_JWKS_SETTINGS, type AuthSettings } from './settings.js';
import { TokenVerifier, type TrustedIssuer } from './verify.js';

export interface VerifierDeps {
  logger?: AuthLogger | undefined;
  /** Replaces the node:https fetcher (tests); gets the issuer's CA file, if any. */
  fetcherFor?: (caFile: string | undefined) => JwksFetcher;
  /** ms clock for JWKS cooldowns and log periods. */
  now?: () => number;
}

interface IssuerSource extends KeySources {
  issuer?: string | undefined;
  audience?: string | undefined;
  allowedTenants?: readonly string[] | undefined;
  jwksUrl?: string | undefined;
  jwksCaFile?: string | undefined;
}

function hasKeySource(s: IssuerSource): boolean {
  return Boolean(s.hs256Secret || (s.publicKeyFiles?.length ?? 0) > 0 || s.jwksFile || s.jwksUrl);
}

/**
 * The trusted issuers the settings describe, their static keys loaded (throws KeyLoadError on
 * any bad key, or when no issuer has a key source) and their JWKS URLs ready to start.
 */
export function trustedIssuers(settings: AuthSettings, deps: VerifierDeps = {}): TrustedIssuer[] {
  const jwksSettings = settings.jwks ?? DEFAULT_JWKS_SETTINGS;
  const sources: IssuerSource[] = [
    ...(hasKeySource(settings) ? [settings] : []),
    // File issuers fall back to the single-issuer audience and tenants.
    ...(settings.issuers ?? []).map((i) => ({
      ...i,
      audience: i.audience ?? settings.audience,
      allowedTenants: i.allowedTenants ?? settings.allowedTenants,
    })),
  ];
  // With several issuers, an issuer without its own tenants can mint tokens for every tenant:
  // adding a second identity provider must not quietly widen what the first may reach.
  if (sources.length > 1) {
    const open = sources.filter((s) => !s.allowedTenants || s.allowedTenants.length === 0);
    if (open.length > 0) {
      deps.logger?.warn(
        { issuers: open.map((s) => s.issuer ?? '(issuer-less keys)') },
        'several trusted issuers, and these may sign tokens for ANY tenant: give each its "tenants" (or set FLEETWIRE_TENANTS)',
      );
    }
  }
  if (sources.length === 0) {
    throw new KeyLoadError(
      'no verification key configured (HS256 secret, PEM files, JWKS file or URL, or an issuers file)',
    );
  }
  return sources.map((source) => {
    const keys = loadStaticKeys(source);
    let jwks: RemoteJwks | undefined;
    if (source.jwksUrl) {
      const fetch =
        deps.fetcherFor?.(source.jwksCaFile) ??
        httpsJwksFetcher({
          ca: source.jwksCaFile === undefined ? undefined : loadCaFile(source.jwksCaFile),
          timeoutMs: jwksSettings.timeoutMs,
          maxBytes: DEFAULT_JWKS_MAX_BYTES,
        });
      jwks = new RemoteJwks({
        url: source.jwksUrl,
        issuer: source.issuer,
        fetch,
        refreshIntervalMs: jwksSettings.refreshSec * 1000,
        cooldownMs: jwksSettings.cooldownSec * 1000,
        logger: deps.logger,
        ...(deps.now ? { now: deps.now } : {}),
      });
    }
    return {
      issuer: source.issuer,
      audience: source.audience,
      allowedTenants: source.allowedTenants,
      keys,
      jwks,
    };
  });
}

/**
 * The verifier for these settings, its JWKS URLs fetched once: it may start without keys for an
 * issuer whose endpoint is down (its tokens get 503 `token_keys_unavailable` until they
 * arrive; `ready` / `status()` tell). Call `close()` on shutdown to stop the refresh timers.
 */
export async function createTokenVerifier(
  settings: AuthSettings,
  deps: VerifierDeps = {},
): Promise<TokenVerifier> {
  const verifier = new TokenVerifier({
    issuers: trustedIssuers(settings, deps),
    clockToleranceSec: settings.clockToleranceSec,
    requireExpiry: settings.requireExpiry,
  });
  await verifier.start();
  return verifier;
}

import { firstIssue } from '@fleetwire/protocol';
import jwt from 'jsonwebtoken';

import { AuthError, type AuthFailureReason } from './errors.js';
import { FleetwireClaims, identityFromClaims, type Identity } from './identity.js';
import { REMOTE_ALGORITHMS, type RemoteJwks, type RemoteJwksStatus } from './jwks.js';
import { KeyLoadError, type Algorithm, type VerificationKey } from './keys.js';

export interface VerifyOptions {
  issuer?: string | undefined;
  audience?: string | undefined;
  /** Allowed clock skew for exp/nbf, seconds. */
  clockToleranceSec: number;
  /** Refuse tokens without `exp`. */
  requireExpiry: boolean;
  /** When set, only these tenants may connect. */
  allowedTenants?: readonly string[] | undefined;
}

/** One issuer whose tokens are trusted, with its own keys and, optionally, audience and tenants. */
export interface TrustedIssuer {
  /**
   * The `iss` its tokens carry, checked by jwt.verify too. Undefined for at most one key set,
   * the issuer-less one of the single-issuer settings: it takes tokens without `iss`, and when it
   * is the only set, tokens with any `iss` (as before issuers were named).
   */
  issuer?: string | undefined;
  /** Required `aud`; not checked when unset. */
  audience?: string | undefined;
  /** Only these tenants; all when unset or empty. */
  allowedTenants?: readonly string[] | undefined;
  /** Keys loaded once: HS256 secret, PEM files, JWKS file. */
  keys?: readonly VerificationKey[] | undefined;
  /** Keys behind a JWKS URL. */
  jwks?: RemoteJwks | undefined;
}

export interface MultiIssuerOptions {
  issuers: readonly TrustedIssuer[];
  clockToleranceSec: number;
  requireExpiry: boolean;
}

export interface IssuerStatus {
  issuer: string | null;
  /** Keys loaded once (secret, PEM, JWKS file). */
  staticKeys: number;
  jwks?: RemoteJwksStatus;
}

export interface VerifierStatus {
  /** Every JWKS URL has delivered keys (tokens of an issuer without keys get 503). */
  ready: boolean;
  issuers: IssuerStatus[];
}

const JWT_SHAPE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;
const SUPPORTED: ReadonlySet<string> = new Set<Algorithm>(['HS256', 'RS256', 'ES256']);

/**
 * Header parameters that would let the token choose or carry its own key, or demand extensions
 * this verifier does not implement (RFC 7515 §4.1.11): refused outright, whatever the signature.
 */
const REFUSED_HEADERS = ['crit', 'jku', 'x5u', 'x5c', 'jwk'] as const;

function reasonOf(error: unknown): AuthFailureReason {
  if (error instanceof jwt.TokenExpiredError) return 'token_expired';
  if (error instanceof jwt.NotBeforeError) return 'token_not_active';
  if (error instanceof jwt.JsonWebTokenError) {
    if (error.message.startsWith('jwt audience invalid')) return 'token_bad_audience';
    if (error.message.startsWith('jwt issuer invalid')) return 'token_bad_issuer';
    if (error.message === 'invalid signature') return 'token_bad_signature';
  }
  return 'token_invalid';
}

/** An attacker-chosen string, short enough for a log line. */
function shown(value: unknown): string {
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  return text.length > 80 ? `${text.slice(0, 80)}…` : text;
}

class IssuerKeys {
  readonly algorithms: ReadonlySet<Algorithm>;
  readonly static: readonly VerificationKey[];

  constructor(readonly trusted: TrustedIssuer) {
    this.static = trusted.keys ?? [];
    this.algorithms = new Set([
      ...this.static.map((k) => k.alg),
      ...(trusted.jwks ? REMOTE_ALGORITHMS : []),
    ]);
  }

  /**
   * Keys a token with this alg/kid may be checked with. Static keys: same algorithm, and the
   * same kid when both have one (as ever). JWKS URL keys: chosen by kid (a token that names a kid
   * is checked only with the key of that kid); a token without kid
   * only when the set holds a single key of its algorithm, so a token never makes the verifier
   * try a whole provider's set.
   */
  candidates(alg: Algorithm, kid: string | undefined): VerificationKey[] {
    const match = (k: VerificationKey): boolean =>
      k.alg === alg && (kid === undefined || k.kid === undefined || k.kid === kid);
    const fromStatic = this.static.filter(match);
    const remote = this.trusted.jwks?.keys ?? [];
    // A provider's key without a kid is never tried for a token that names one.
    let fromRemote = remote.filter((k) => match(k) && (kid === undefined || k.kid === kid));
    if (kid === undefined && fromRemote.length > 1) fromRemote = [];
    return [...fromStatic, ...fromRemote];
  }
}

interface Parsed {
  token: string;
  alg: Algorithm;
  kid: string | undefined;
  issuer: IssuerKeys;
}

/** A base64url JSON object (a JWT's header or payload), or undefined when it is not one. */
function jsonObjectOf(part: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(Buffer.from(part, 'base64url').toString());
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

/** Marks an attempt that may succeed once the issuer's JWKS has been fetched again. */
const NEEDS_KEYS = Symbol('needs keys');

/**
 * Verifies Fleetwire tokens; every refusal is an AuthError. Keys are looked up by issuer, then
 * kid: the token's `iss` (read unverified, only to pick the key set) must name a trusted issuer,
 * and jwt.verify then checks it too. `verify` settles without waiting when the keys are in hand;
 * only a token whose kid is not (yet) known waits for its issuer's JWKS to be fetched again.
 */
export class TokenVerifier {
  private readonly named = new Map<string, IssuerKeys>();
  private readonly unnamed: IssuerKeys | undefined;
  private readonly all: readonly IssuerKeys[];
  private readonly algorithms: ReadonlySet<Algorithm>;
  private readonly clockToleranceSec: number;
  private readonly requireExpiry: boolean;

  /** One issuer with a fixed key set (`options.issuer` may be unset: no `iss` check). */
  constructor(keys: readonly VerificationKey[], options: VerifyOptions);
  /** Several trusted issuers, each with its own keys. */
  constructor(options: MultiIssuerOptions);
  constructor(
    keysOrOptions: readonly VerificationKey[] | MultiIssuerOptions,
    single?: VerifyOptions,
  ) {
    let issuers: readonly TrustedIssuer[];
    let common: { clockToleranceSec: number; requireExpiry: boolean };
    if ('issuers' in keysOrOptions) {
      issuers = keysOrOptions.issuers;
      common = keysOrOptions;
    } else {
      if (!single) throw new TypeError('TokenVerifier(keys, options): options missing');
      issuers = [
        {
          issuer: single.issuer || undefined,
          audience: single.audience,
          allowedTenants: single.allowedTenants,
          keys: keysOrOptions,
        },
      ];
      common = single;
    }
    this.clockToleranceSec = common.clockToleranceSec;
    this.requireExpiry = common.requireExpiry;
    let unnamed: IssuerKeys | undefined;
    for (const trusted of issuers) {
      const keys = new IssuerKeys(trusted);
      if (trusted.issuer === undefined || trusted.issuer === '') {
        if (unnamed) throw new KeyLoadError('only one key set may be without an issuer');
        unnamed = keys;
      } else {
        if (this.named.has(trusted.issuer)) {
          throw new KeyLoadError(`issuer ${trusted.issuer} is configured twice`);
        }
        this.named.set(trusted.issuer, keys);
      }
    }
    this.unnamed = unnamed;
    this.all = [...this.named.values(), ...(unnamed ? [unnamed] : [])];
    this.algorithms = new Set(this.all.flatMap((i) => [...i.algorithms]));
  }

  /** Every JWKS URL has delivered keys. Tokens of an issuer still without keys get 503. */
  get ready(): boolean {
    return this.all.every((i) => i.trusted.jwks?.ready ?? true);
  }

  status(): VerifierStatus {
    return {
      ready: this.ready,
      issuers: this.all.map((i) => ({
        issuer: i.trusted.issuer ?? null,
        staticKeys: i.static.length,
        ...(i.trusted.jwks ? { jwks: i.trusted.jwks.status() } : {}),
      })),
    };
  }

  /**
   * Fetches every JWKS URL once (concurrently; a failure is logged, not thrown: the service may
   * start without keys for an issuer) and starts their refresh timers.
   */
  async start(): Promise<void> {
    await Promise.all(this.all.map((i) => i.trusted.jwks?.start()));
  }

  /** Fetches every JWKS URL now, whatever the cooldown (joining fetches in flight). */
  async refresh(): Promise<void> {
    await Promise.all(this.all.map((i) => i.trusted.jwks?.refresh()));
  }

  /** Stops the refresh timers and fetches in flight. */
  close(): void {
    for (const i of this.all) i.trusted.jwks?.close();
  }

  verify(token: string): Promise<Identity> {
    let parsed: Parsed;
    try {
      parsed = this.parse(token);
      const outcome = this.attempt(parsed, false);
      if (outcome !== NEEDS_KEYS) return Promise.resolve(outcome);
    } catch (error) {
      return Promise.reject(error as Error);
    }
    return this.afterRefresh(parsed);
  }

  /**
   * The same checks without waiting: the identity when the keys are in hand, undefined when the
   * token names a key its issuer's JWKS may still deliver (then `verify` fetches it). Refusals
   * throw the AuthError `verify` would reject with. The WebSocket upgrade uses it to finish
   * inside uWS's handler.
   */
  verifyNow(token: string): Identity | undefined {
    const outcome = this.attempt(this.parse(token), false);
    return outcome === NEEDS_KEYS ? undefined : outcome;
  }

  private async afterRefresh(parsed: Parsed): Promise<Identity> {
    await parsed.issuer.trusted.jwks?.refreshForUnknownKid();
    const outcome = this.attempt(parsed, true);
    if (outcome === NEEDS_KEYS) throw new Error('unreachable: keys needed after a refresh');
    return outcome;
  }

  /**
   * Shape, header, algorithm and issuer: everything decided before any key is looked at. Only
   * the header is decoded here (and the payload only when the issuer picks the key set):
   * jwt.verify decodes the token again anyway.
   */
  private parse(token: string): Parsed {
    if (!JWT_SHAPE.test(token)) throw new AuthError('token_malformed', 'not a JWT');
    const dot = token.indexOf('.');
    const header = jsonObjectOf(token.slice(0, dot));
    if (!header || typeof header['alg'] !== 'string') {
      throw new AuthError('token_malformed', 'not a JWT');
    }
    const refused = REFUSED_HEADERS.filter((name) => Object.hasOwn(header, name));
    if (refused.length > 0) {
      throw new AuthError('token_header_refused', `header parameter ${refused.join(', ')} refused`);
    }
    const alg = header['alg'];
    const kid: unknown = header['kid'];
    if (kid !== undefined && typeof kid !== 'string') {
      throw new AuthError('token_malformed', 'kid is not a string');
    }
    if (!SUPPORTED.has(alg) || !this.algorithms.has(alg as Algorithm)) {
      throw new AuthError('token_alg_not_allowed', `algorithm ${shown(alg)} is not accepted`);
    }
    // Without named issuers every token goes to the one issuer-less key set, whatever its iss.
    const iss =
      this.named.size === 0
        ? undefined
        : jsonObjectOf(token.slice(dot + 1, token.indexOf('.', dot + 1)))?.['iss'];
    const issuer = this.issuerOf(iss);
    if (!issuer.algorithms.has(alg as Algorithm)) {
      throw new AuthError(
        'token_alg_not_allowed',
        `algorithm ${alg} is not accepted for issuer ${shown(iss)}`,
      );
    }
    return { token, alg: alg as Algorithm, kid, issuer };
  }

  private issuerOf(iss: unknown): IssuerKeys {
    const named = typeof iss === 'string' ? this.named.get(iss) : undefined;
    if (named) return named;
    // The issuer-less set takes tokens without iss; alone, any token (its iss goes unchecked).
    if (this.unnamed && (iss === undefined || this.named.size === 0)) return this.unnamed;
    if (iss === undefined) throw new AuthError('token_bad_issuer', 'the token has no iss');
    throw new AuthError('token_bad_issuer', `issuer ${shown(iss)} is not trusted`);
  }

  /** Signature and claims with the keys in hand; NEEDS_KEYS when a fetch might find the key. */
  private attempt(parsed: Parsed, refreshed: boolean): Identity | typeof NEEDS_KEYS {
    const { token, alg, kid, issuer } = parsed;
    const jwks = issuer.trusted.jwks;
    // A fetch could help: keys never arrived, or the token names a kid the JWKS does not hold.
    const fetchMayHelp =
      !refreshed &&
      jwks !== undefined &&
      REMOTE_ALGORITHMS.has(alg) &&
      (!jwks.ready || (kid !== undefined && !jwks.hasKid(kid)));
    const candidates = issuer.candidates(alg, kid);
    if (candidates.length === 0) {
      if (fetchMayHelp) return NEEDS_KEYS;
      if (jwks && !jwks.ready && REMOTE_ALGORITHMS.has(alg)) {
        throw new AuthError(
          'token_keys_unavailable',
          `the keys of issuer ${shown(issuer.trusted.issuer ?? '(none)')} have not arrived yet`,
        );
      }
      throw new AuthError('token_key_unknown', `no key with kid ${shown(kid ?? '(none)')}`);
    }

    let payload: unknown;
    let lastError: unknown;
    const { issuer: iss, audience } = issuer.trusted;
    for (const candidate of candidates) {
      try {
        payload = jwt.verify(token, candidate.key, {
          algorithms: [candidate.alg],
          clockTolerance: this.clockToleranceSec,
          ...(iss ? { issuer: iss } : {}),
          ...(audience ? { audience } : {}),
        });
        break;
      } catch (error) {
        lastError = error;
        // Only a signature mismatch is worth trying the next key for.
        if (reasonOf(error) !== 'token_bad_signature') break;
      }
    }
    if (payload === undefined) {
      const reason = reasonOf(lastError);
      if (reason === 'token_bad_signature' && fetchMayHelp) return NEEDS_KEYS;
      throw new AuthError(reason, (lastError as Error).message, { cause: lastError });
    }

    const claims = FleetwireClaims.safeParse(payload);
    if (!claims.success) {
      throw new AuthError('claims_invalid', `claim ${firstIssue(claims.error, '?')}`);
    }
    if (this.requireExpiry && claims.data.exp === undefined) {
      throw new AuthError('token_no_expiry', 'the token has no exp claim');
    }
    const allowed = issuer.trusted.allowedTenants;
    if (allowed && allowed.length > 0 && !allowed.includes(claims.data.tenant)) {
      throw new AuthError('tenant_not_allowed', `tenant ${claims.data.tenant} is not served here`);
    }
    return identityFromClaims(claims.data);
  }
}

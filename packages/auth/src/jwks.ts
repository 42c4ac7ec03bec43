import { request } from 'node:https';

import { firstIssue } from '@fleetwire/protocol';

import { JwksDocument, remoteJwksKeys, type Algorithm, type VerificationKey } from './keys.js';

/** Where the auth package writes its few operational lines; a pino logger fits. */
export interface AuthLogger {
  info(details: object, message: string): void;
  warn(details: object, message: string): void;
}

/** Fetches a JWKS URL and answers its parsed JSON body; rejects on any failure. */
export type JwksFetcher = (url: string, signal: AbortSignal) => Promise<unknown>;

export interface HttpsFetchOptions {
  /** PEM CA bundle to trust instead of the system's (tests, private PKI). */
  ca?: string | undefined;
  /** The whole exchange, connect to last byte. */
  timeoutMs: number;
  /** Larger bodies are cut off and refused. */
  maxBytes: number;
}

export class JwksFetchError extends Error {
  override readonly name = 'JwksFetchError';
}

/** 256 KiB: a JWKS of a hundred 4096-bit RSA keys is about 80 KiB. */
export const DEFAULT_JWKS_MAX_BYTES = 256 * 1024;

/**
 * A JWKS fetcher on node:https: GET, no redirects, `200` only, a deadline for the whole exchange
 * and a cap on the body, which must be JSON.
 */
export function httpsJwksFetcher({ ca, timeoutMs, maxBytes }: HttpsFetchOptions): JwksFetcher {
  return (url, signal) =>
    new Promise((resolve, reject) => {
      const target = new URL(url);
      if (target.protocol !== 'https:') {
        reject(new JwksFetchError(`${url}: only https URLs are fetched`));
        return;
      }
      let settled = false;
      const settle = (error: Error | undefined, value?: unknown): void => {
        if (settled) return;
        settled = true;
        clearTimeout(deadline);
        if (error) {
          req.destroy();
          reject(error);
        } else resolve(value);
      };
      const req = request(
        target,
        {
          method: 'GET',
          headers: { accept: 'application/json, application/jwk-set+json' },
          agent: false,
          signal,
          ...(ca === undefined ? {} : { ca }),
        },
        (res) => {
          if (res.statusCode !== 200) {
            res.resume();
            settle(new JwksFetchError(`${url}: HTTP ${res.statusCode ?? '?'}`));
            return;
          }
          const declared = Number(res.headers['content-length'] ?? 0);
          if (declared > maxBytes) {
            settle(new JwksFetchError(`${url}: body of ${declared} bytes, over ${maxBytes}`));
            return;
          }
          const chunks: Buffer[] = [];
          let size = 0;
          res.on('data', (chunk: Buffer) => {
            size += chunk.byteLength;
            if (size > maxBytes) {
              settle(new JwksFetchError(`${url}: body over ${maxBytes} bytes`));
              return;
            }
            chunks.push(chunk);
          });
          res.on('end', () => {
            let body: unknown;
            try {
              body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
            } catch {
              settle(new JwksFetchError(`${url}: body is not JSON`));
              return;
            }
            settle(undefined, body);
          });
          res.on('error', (error) => settle(error));
        },
      );
      const deadline = setTimeout(
        () => settle(new JwksFetchError(`${url}: no complete answer within ${timeoutMs} ms`)),
        timeoutMs,
      );
      req.on('error', (error) => settle(error));
      req.end();
    });
}

export interface RemoteJwksOptions {
  url: string;
  /** The issuer these keys belong to, for logs and status. */
  issuer?: string | undefined;
  fetch: JwksFetcher;
  /** Planned refresh period (default 10 min); also the period failures are logged at. */
  refreshIntervalMs?: number;
  /**
   * At most one fetch per this many ms for unknown kids (default 30 s); also the retry period
   * while the endpoint fails.
   */
  cooldownMs?: number;
  logger?: AuthLogger | undefined;
  /** ms clock for the cooldown and the log period; Date.now by default. */
  now?: () => number;
}

export interface RemoteJwksStatus {
  url: string;
  issuer?: string;
  /** Keys have arrived at least once. */
  ready: boolean;
  keys: number;
  kids: string[];
  /** The last fetch failed and the keys in use are older ones. */
  stale: boolean;
  fetches: number;
  consecutiveFailures: number;
  lastSuccessAt?: number;
  lastError?: string;
}

/**
 * The keys behind one JWKS URL: fetched at start, refreshed on a timer, and again when a token
 * names a kid the set does not hold, at most once per cooldown, every such token sharing the one
 * fetch in flight. A failed fetch keeps the keys in hand (stale beats none) and is logged at most
 * once per refresh interval, with how many failed since the last line.
 */
export class RemoteJwks {
  readonly url: string;
  readonly issuer: string | undefined;
  private readonly refreshIntervalMs: number;
  private readonly cooldownMs: number;
  private readonly now: () => number;
  private current: readonly VerificationKey[] | undefined;
  private kids = new Set<string>();
  private inFlight: Promise<void> | undefined;
  private lastAttemptAt = Number.NEGATIVE_INFINITY;
  private lastSuccessAt: number | undefined;
  private lastError: string | undefined;
  private lastFailureLogAt = Number.NEGATIVE_INFINITY;
  private failuresSinceLog = 0;
  private consecutiveFailures = 0;
  private fetchCount = 0;
  private timer: NodeJS.Timeout | undefined;
  private timerOn = false;
  private readonly abort = new AbortController();

  constructor(private readonly options: RemoteJwksOptions) {
    this.url = options.url;
    this.issuer = options.issuer;
    this.refreshIntervalMs = options.refreshIntervalMs ?? 600_000;
    this.cooldownMs = Math.min(options.cooldownMs ?? 30_000, this.refreshIntervalMs);
    this.now = options.now ?? Date.now;
  }

  /** The keys in hand; undefined until a fetch succeeded. */
  get keys(): readonly VerificationKey[] | undefined {
    return this.current;
  }

  get ready(): boolean {
    return this.current !== undefined;
  }

  hasKid(kid: string): boolean {
    return this.kids.has(kid);
  }

  /** Fetches now (sharing a fetch in flight) and keeps refreshing on the timer until close(). */
  start(): Promise<void> {
    this.timerOn = true;
    return this.refresh();
  }

  /** A fetch now, whatever the cooldown; joins the one in flight. Never rejects. */
  refresh(): Promise<void> {
    if (this.abort.signal.aborted) return Promise.resolve();
    this.inFlight ??= this.fetchOnce().finally(() => {
      this.inFlight = undefined;
      this.schedule();
    });
    return this.inFlight;
  }

  /**
   * A token named a key this set does not hold: the fetch in flight, a new one when the last
   * began a cooldown ago or more, else undefined (the token is refused without a fetch).
   */
  refreshForUnknownKid(): Promise<void> | undefined {
    if (this.inFlight) return this.inFlight;
    if (this.now() - this.lastAttemptAt < this.cooldownMs) return undefined;
    return this.refresh();
  }

  /** Stops the timer and any fetch in flight; the keys in hand stay usable. */
  close(): void {
    this.timerOn = false;
    clearTimeout(this.timer);
    this.abort.abort();
  }

  status(): RemoteJwksStatus {
    return {
      url: this.url,
      ...(this.issuer === undefined ? {} : { issuer: this.issuer }),
      ready: this.ready,
      keys: this.current?.length ?? 0,
      kids: [...this.kids],
      stale: this.current !== undefined && this.consecutiveFailures > 0,
      fetches: this.fetchCount,
      consecutiveFailures: this.consecutiveFailures,
      ...(this.lastSuccessAt === undefined ? {} : { lastSuccessAt: this.lastSuccessAt }),
      ...(this.lastError === undefined ? {} : { lastError: this.lastError }),
    };
  }

  private schedule(): void {
    clearTimeout(this.timer);
    if (!this.timerOn || this.abort.signal.aborted) return;
    // While failing, retry at the cooldown: keys (new or first ones) arrive soon after it is back.
    const delay = this.consecutiveFailures > 0 ? this.cooldownMs : this.refreshIntervalMs;
    this.timer = setTimeout(() => void this.refresh(), delay);
    this.timer.unref();
  }

  private async fetchOnce(): Promise<void> {
    this.lastAttemptAt = this.now();
    this.fetchCount += 1;
    const log = { issuer: this.issuer, url: this.url };
    try {
      const body = await this.options.fetch(this.url, this.abort.signal);
      const document = JwksDocument.safeParse(body);
      if (!document.success) {
        throw new Error(`not a JWKS ({"keys":[…]}): ${firstIssue(document.error, '(root)')}`);
      }
      const { keys, skipped } = remoteJwksKeys(document.data, this.url);
      if (keys.length === 0) {
        throw new Error(`no usable signing key${skipped.length ? ` (${skipped.join('; ')})` : ''}`);
      }
      const before = [...this.kids].sort().join(',');
      this.current = keys;
      this.kids = new Set(keys.flatMap((k) => (k.kid === undefined ? [] : [k.kid])));
      this.lastSuccessAt = this.now();
      if (this.consecutiveFailures > 0) {
        this.options.logger?.info(
          { ...log, failures: this.consecutiveFailures, keys: keys.length },
          'JWKS endpoint answers again',
        );
      } else if (before !== [...this.kids].sort().join(',')) {
        this.options.logger?.info(
          { ...log, kids: [...this.kids], ...(skipped.length ? { skipped } : {}) },
          'JWKS keys loaded',
        );
      }
      this.consecutiveFailures = 0;
      this.failuresSinceLog = 0;
      this.lastError = undefined;
    } catch (error) {
      if (this.abort.signal.aborted) return;
      this.consecutiveFailures += 1;
      this.failuresSinceLog += 1;
      this.lastError = error instanceof Error ? error.message : String(error);
      const now = this.now();
      if (now - this.lastFailureLogAt >= this.refreshIntervalMs) {
        this.options.logger?.warn(
          {
            ...log,
            failures: this.failuresSinceLog,
            consecutiveFailures: this.consecutiveFailures,
            error: this.lastError,
            ...(this.current
              ? { keys: this.current.length, lastSuccessAt: this.lastSuccessAt }
              : { keys: 0 }),
          },
          this.current
            ? 'JWKS fetch failed: serving the cached keys'
            : 'JWKS fetch failed: no keys yet, tokens of this issuer are refused (503)',
        );
        this.lastFailureLogAt = now;
        this.failuresSinceLog = 0;
      }
    }
  }
}

/** Algorithms a JWKS URL can ever supply keys for (never HS256). */
export const REMOTE_ALGORITHMS: ReadonlySet<Algorithm> = new Set(['RS256', 'ES256']);

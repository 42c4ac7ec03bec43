import { generateKeyPairSync, type KeyObject } from 'node:crypto';

import jwt from 'jsonwebtoken';

import { AuthError } from './errors.js';
import type { AuthLogger, JwksFetcher } from './jwks.js';

/** A provider's signing key: the private half signs test tokens, `jwk` is what its JWKS shows. */
export interface SigningKey {
  kid: string;
  alg: 'RS256' | 'ES256';
  privateKey: KeyObject;
  jwk: Record<string, unknown>;
}

export function signingKey(kid: string, kind: 'ec' | 'rsa' = 'ec'): SigningKey {
  const pair =
    kind === 'ec'
      ? generateKeyPairSync('ec', { namedCurve: 'prime256v1' })
      : generateKeyPairSync('rsa', { modulusLength: 2048 });
  const alg = kind === 'ec' ? 'ES256' : 'RS256';
  return {
    kid,
    alg,
    privateKey: pair.privateKey,
    jwk: { ...pair.publicKey.export({ format: 'jwk' }), kid, use: 'sig', alg },
  };
}

export const jwksOf = (...keys: SigningKey[]): { keys: Record<string, unknown>[] } => ({
  keys: keys.map((k) => k.jwk),
});

export const CLAIMS = { sub: 'dev-1', role: 'device', tenant: 'acme' } as const;

/** A token signed with `key` under its kid (or `kid`), valid for a minute. */
export function sign(
  key: SigningKey,
  options: jwt.SignOptions & { claims?: Record<string, unknown> } = {},
): string {
  const { claims, ...rest } = options;
  return jwt.sign({ ...CLAIMS, ...claims }, key.privateKey, {
    algorithm: key.alg,
    keyid: key.kid,
    expiresIn: 60,
    ...rest,
  });
}

/** The AuthError a verification ends in; fails the test when the token is accepted. */
export async function refusal(verification: Promise<unknown>): Promise<AuthError> {
  try {
    await verification;
  } catch (error) {
    if (error instanceof AuthError) return error;
    throw error;
  }
  throw new Error('the token was accepted');
}

export interface LogLine {
  level: 'info' | 'warn';
  details: Record<string, unknown>;
  message: string;
}

/** An AuthLogger that keeps its lines. */
export class LogCapture implements AuthLogger {
  readonly lines: LogLine[] = [];
  info(details: object, message: string): void {
    this.lines.push({ level: 'info', details: details as Record<string, unknown>, message });
  }
  warn(details: object, message: string): void {
    this.lines.push({ level: 'warn', details: details as Record<string, unknown>, message });
  }
  get warnings(): LogLine[] {
    return this.lines.filter((l) => l.level === 'warn');
  }
}

/**
 * A JWKS endpoint in memory: answers `body`, or fails with `failure`; `hold()` keeps the next
 * fetches waiting until the returned release is called, so a test sees them in flight.
 */
export class FakeEndpoint {
  body: unknown;
  failure: Error | undefined;
  calls = 0;
  private gate: Promise<void> | undefined;

  constructor(body: unknown) {
    this.body = body;
  }

  readonly fetch: JwksFetcher = async () => {
    this.calls += 1;
    if (this.gate) await this.gate;
    if (this.failure) throw this.failure;
    return this.body;
  };

  hold(): () => void {
    let release!: () => void;
    this.gate = new Promise((resolve) => {
      release = () => {
        this.gate = undefined;
        resolve();
      };
    });
    return release;
  }
}

import { Writable } from 'node:stream';

import { TokenVerifier, loadVerificationKeys } from '@fleetwire/auth';
import { createRegistry } from '@fleetwire/metrics';
import type { TelemetryStore } from '@fleetwire/store';
import jwt from 'jsonwebtoken';
import { pino, type Logger } from 'pino';

import { ReadApi } from './api.js';
import { loadIngestConfig, type IngestConfig } from './config.js';
import { IngestHttpServer } from './http-server.js';
import { IngestMetrics } from './metrics.js';

export const SECRET = 'test-secret-that-is-at-least-32-bytes-long';
export const ISSUER = 'fleetwire-test';
export const AUDIENCE = 'fleetwire';

export interface TokenClaims {
  sub: string;
  role: 'device' | 'dashboard' | 'service';
  tenant?: string;
  acl?: { pub?: string[]; sub?: string[] };
}

export function mintToken(claims: TokenClaims, secret = SECRET): string {
  return jwt.sign({ tenant: 'acme', ...claims }, secret, {
    algorithm: 'HS256',
    issuer: ISSUER,
    audience: AUDIENCE,
    expiresIn: 600,
  });
}

/** Config as a test process would get it from its environment. */
export function testConfig(env: Record<string, string> = {}): IngestConfig {
  return loadIngestConfig(
    {
      FLEETWIRE_HOST: '127.0.0.1',
      FLEETWIRE_PORT: '0',
      FLEETWIRE_DATABASE_URL: 'pglite:memory',
      FLEETWIRE_JWT_HS256_SECRET: SECRET,
      FLEETWIRE_JWT_ISSUER: ISSUER,
      FLEETWIRE_JWT_AUDIENCE: AUDIENCE,
      FLEETWIRE_LOG_LEVEL: 'info',
      ...env,
    },
    'test-node',
  );
}

/** A pino logger whose JSON lines land in `lines`. */
export function captureLogger(): { logger: Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split('\n')) if (line) lines.push(JSON.parse(line));
      done();
    },
  });
  return { logger: pino({ level: 'info' }, sink), lines };
}

export interface TestApi {
  url: string;
  metrics: IngestMetrics;
  // Bodies are checked by exact assertions in the tests; a loose type keeps those readable.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  get(path: string, token?: string, method?: string): Promise<{ status: number; body: any }>;
  close(): Promise<void>;
}

/** The read API over a store, on a free port, with test tokens. */
export async function startTestApi(
  store: TelemetryStore,
  env: Record<string, string> = {},
): Promise<TestApi> {
  const config = testConfig(env);
  const verifier = new TokenVerifier(loadVerificationKeys(config.auth), config.auth);
  const registry = createRegistry({ service: 'ingest', node: 'test' });
  const metrics = new IngestMetrics(registry);
  const server = new IngestHttpServer({
    api: new ReadApi({ store, verifier, config: config.api }),
    registry,
    metrics,
    logger: captureLogger().logger,
    readiness: async () => ({ ready: true, checks: { store: true } }),
  });
  const port = await server.listen('127.0.0.1', 0);
  const url = `http://127.0.0.1:${port}`;
  return {
    url,
    metrics,
    async get(path, token, method = 'GET') {
      const res = await fetch(`${url}${path}`, {
        method,
        headers: token ? { authorization: `Bearer ${token}` } : {},
      });
      const text = await res.text();
      return {
        status: res.status,
        body: text && res.headers.get('content-type')?.includes('json') ? JSON.parse(text) : text,
      };
    },
    close: () => server.close(),
  };
}

import jwt from 'jsonwebtoken';

/** The HS256 secret every bench edge is started with (long enough for the edge's check). */
export const BENCH_SECRET = 'bench-secret-that-is-at-least-32-bytes-long';
export const BENCH_TENANT = 'bench';

/** A token the bench edges accept, valid for an hour. */
export function benchToken(sub: string, role: string, tenant = BENCH_TENANT): string {
  return jwt.sign({ sub, role, tenant }, BENCH_SECRET, { expiresIn: 3600 });
}

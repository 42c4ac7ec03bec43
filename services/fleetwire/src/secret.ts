import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const SECRET_FILE = 'secret';

/** No key to mint with: neither FLEETWIRE_JWT_HS256_SECRET nor a kept secret. */
export class NoKeyError extends Error {
  override readonly name = 'NoKeyError';
  readonly code = 'FLEETWIRE_NO_KEY';
  constructor(dataDir: string) {
    super(
      `no key: no FLEETWIRE_JWT_HS256_SECRET and no ${join(dataDir, SECRET_FILE)}. ` +
        'Run `fleetwire start` once (it creates the key), or set FLEETWIRE_JWT_HS256_SECRET ' +
        '(at least 32 bytes), or point --data at the data dir of a running Fleetwire.',
    );
  }
}

/** The secret kept in the data dir, or undefined when there is none yet. */
export function readKeptSecret(dataDir: string): string | undefined {
  try {
    return readFileSync(join(dataDir, SECRET_FILE), 'utf8').trim();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

/**
 * The HS256 secret of the embedded process: the one kept in `<dataDir>/secret`, created (32
 * random bytes, hex, mode 0600) on the first start, so tokens keep working across restarts.
 */
export function keptSecret(dataDir: string): { secret: string; created: boolean } {
  const existing = readKeptSecret(dataDir);
  if (existing !== undefined) return { secret: existing, created: false };
  mkdirSync(dataDir, { recursive: true });
  const secret = randomBytes(32).toString('hex');
  try {
    // `wx`: if another start raced us to it, theirs wins and both use it.
    writeFileSync(join(dataDir, SECRET_FILE), `${secret}\n`, { mode: 0o600, flag: 'wx' });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    return { secret: readKeptSecret(dataDir) as string, created: false };
  }
  return { secret, created: true };
}

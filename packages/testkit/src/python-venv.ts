import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

import { TestkitError } from './errors.js';

const run = promisify(execFile);

export interface PythonVenvOptions {
  /** Pinned requirements, e.g. `['paho-mqtt==2.1.0']`: they name the cached venv. */
  packages: string[];
  /** The most creating the venv and installing may take (default 180 s). */
  timeoutMs?: number;
  /** The interpreter to build it with (default `python3` on PATH). */
  python?: string;
}

export interface PythonVenv {
  dir: string;
  /** The venv's interpreter. */
  python: string;
}

/**
 * A Python virtual environment with `packages` installed from PyPI, for tests that drive real
 * Python clients. Created once per package set under the OS temp dir and reused by later runs
 * (a `ready` marker says it is complete); built in a scratch dir and renamed into place, so an
 * interrupted or concurrent build never leaves a half-made venv behind. Fails with
 * TESTKIT_PYTHON_VENV naming what to install when python3 or pip is missing.
 */
export async function pythonVenv(options: PythonVenvOptions): Promise<PythonVenv> {
  const python = options.python ?? 'python3';
  const timeout = options.timeoutMs ?? 180_000;
  const key = createHash('sha256')
    .update([python, ...[...options.packages].sort()].join('\n'))
    .digest('hex')
    .slice(0, 16);
  const dir = join(tmpdir(), `fleetwire-venv-${key}`);
  const venv = (at: string): PythonVenv => ({ dir: at, python: join(at, 'bin', 'python') });
  const ready = join(dir, 'venv', 'ready');
  if (existsSync(ready)) return venv(join(dir, 'venv'));
  const scratch = mkdtempSync(join(tmpdir(), `fleetwire-venv-${key}-build-`));
  try {
    const target = join(scratch, 'venv');
    await run(python, ['-m', 'venv', target], { timeout });
    await run(
      join(target, 'bin', 'python'),
      ['-m', 'pip', 'install', '--quiet', '--disable-pip-version-check', ...options.packages],
      { timeout },
    );
    writeFileSync(join(target, 'ready'), `${options.packages.join('\n')}\n`);
  } catch (cause) {
    rmSync(scratch, { recursive: true, force: true });
    throw new TestkitError(
      'TESTKIT_PYTHON_VENV',
      `could not create a Python venv with ${options.packages.join(', ')} (needs ${python} with ` +
        `the venv module, e.g. apt-get install python3-venv, and pip reaching PyPI): ` +
        `${(cause as Error).message}`,
      { cause },
    );
  }
  // Renamed into place in one step (the interpreter finds its packages relative to itself), unless
  // another run got there first.
  try {
    renameSync(scratch, dir);
  } catch {
    rmSync(scratch, { recursive: true, force: true });
    if (!existsSync(ready)) {
      throw new TestkitError('TESTKIT_PYTHON_VENV', `venv ${dir} appeared incomplete`);
    }
  }
  return venv(join(dir, 'venv'));
}

import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

export class PromtoolNotFoundError extends Error {
  override readonly name = 'PromtoolNotFoundError';
  constructor() {
    super('promtool not found: bash infra/local/install.sh prometheus');
  }
}

export function promtoolPath(env: NodeJS.ProcessEnv): string {
  for (const dir of (env['PATH'] ?? '').split(':')) {
    if (dir && existsSync(join(dir, 'promtool'))) return join(dir, 'promtool');
  }
  throw new PromtoolNotFoundError();
}

/** Runs promtool; resolves with its output, throws with it when promtool refused the input. */
export function promtool(path: string, args: string[]): string {
  try {
    return execFileSync(path, args, { encoding: 'utf8', timeout: 30_000, stdio: 'pipe' });
  } catch (error) {
    const e = error as { stdout?: string; stderr?: string };
    throw new Error(`promtool ${args.join(' ')} failed:\n${e.stdout ?? ''}${e.stderr ?? ''}`, {
      cause: error,
    });
  }
}

/**
 * Metric names a PromQL expression reads: identifiers with the prefixes the services,
 * kube-state-metrics, cAdvisor and Prometheus use (`fleetwire_`, `nodejs_`, `process_`, `kube_`,
 * `container_`, and `up`). Label names and functions do not carry these prefixes.
 */
export function metricNamesIn(expr: string): string[] {
  const names =
    expr.match(/\b(?:fleetwire_|nodejs_|process_|kube_|container_)[a-zA-Z0-9_]*|\bup(?=\s*\{)/g) ??
    [];
  return [...new Set(names)];
}

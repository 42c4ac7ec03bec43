import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

import { parseAllDocuments } from 'yaml';

/** A rendered Kubernetes object, as YAML gave it. */
export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> } & Record<
    string,
    unknown
  >;
  [field: string]: unknown;
}

export class KustomizeNotFoundError extends Error {
  override readonly name = 'KustomizeNotFoundError';
  constructor() {
    super('kustomize not found: bash infra/local/install.sh kustomize');
  }
}

/** kustomize from the cache install.sh fills, else from PATH, else kubectl's built-in one. */
export function kustomizeCommand(env: NodeJS.ProcessEnv): string[] {
  const cache =
    env['FLEETWIRE_CACHE'] ?? join(env['XDG_CACHE_HOME'] ?? join(homedir(), '.cache'), 'fleetwire');
  const cached = join(cache, 'bin', 'kustomize');
  if (existsSync(cached)) return [cached, 'build'];
  for (const dir of (env['PATH'] ?? '').split(':')) {
    if (dir && existsSync(join(dir, 'kustomize'))) return [join(dir, 'kustomize'), 'build'];
  }
  for (const dir of (env['PATH'] ?? '').split(':')) {
    if (dir && existsSync(join(dir, 'kubectl'))) return [join(dir, 'kubectl'), 'kustomize'];
  }
  throw new KustomizeNotFoundError();
}

/** Renders a kustomization directory offline into its objects. */
export function renderKustomization(command: string[], dir: string): K8sObject[] {
  const [program, ...args] = command as [string, ...string[]];
  const output = execFileSync(program, [...args, dir], { encoding: 'utf8', timeout: 60_000 });
  return parseAllDocuments(output)
    .map((doc) => {
      if (doc.errors.length > 0) throw doc.errors[0];
      return doc.toJS() as K8sObject | null;
    })
    .filter((o): o is K8sObject => o !== null);
}

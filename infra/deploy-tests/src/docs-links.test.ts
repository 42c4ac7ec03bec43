import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../..', import.meta.url));
const SKIP = new Set(['node_modules', 'dist', '.git', 'data', 'test-output', '.local', 'coverage']);

function markdownFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    if (SKIP.has(entry.name)) return [];
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return markdownFiles(path);
    return entry.name.endsWith('.md') ? [path] : [];
  });
}

/** `[text](target)` links that are not URLs or in-page anchors, without their `#fragment`. */
function relativeLinks(text: string): string[] {
  return [...text.matchAll(/\]\(([^)\s]+)\)/g)]
    .map((m) => m[1]!.split('#')[0]!)
    .filter((target) => target !== '' && !/^[a-z][a-z0-9+.-]*:/i.test(target));
}

// A clone has only the repository: a link that leaves it (the team's notes beside the checkout,
// say) or points at nothing is broken for every reader.
describe('links in the repository docs', () => {
  it('every relative link in a Markdown file names a file inside the repository', () => {
    const broken: string[] = [];
    for (const file of markdownFiles(ROOT)) {
      for (const target of relativeLinks(readFileSync(file, 'utf8'))) {
        const resolved = resolve(dirname(file), decodeURIComponent(target));
        const inside = !relative(ROOT, resolved).startsWith('..');
        if (!inside || !existsSync(resolved)) broken.push(`${relative(ROOT, file)} → ${target}`);
      }
    }
    expect(broken).toEqual([]);
  });

  it('finds links that leave the repository', () => {
    expect(
      relativeLinks('see [notes](../shared/ARCHITECTURE.md#data-flow) and [x](https://a.b)'),
    ).toEqual(['../shared/ARCHITECTURE.md']);
  });
});

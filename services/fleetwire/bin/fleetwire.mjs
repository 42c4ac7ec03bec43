#!/usr/bin/env node
// Runs the CLI from its TypeScript sources (tsx) with the workspace packages read from their
// `src/` (the @fleetwire/source condition), so nothing needs building first. Node settles
// export conditions at startup, hence the child process; signals are passed on to it and its
// exit status becomes ours.
import { spawn } from 'node:child_process';
import { relative } from 'node:path';
import process from 'node:process';
import { URL, fileURLToPath } from 'node:url';

const main = fileURLToPath(new URL('../src/main.ts', import.meta.url));
const tsx = import.meta.resolve('tsx');
const self = fileURLToPath(import.meta.url);

/** The path as the user would type it: relative when below the working directory. */
function shortest(path) {
  const rel = relative(process.cwd(), path);
  return rel.startsWith('..') ? path : rel;
}

const child = spawn(
  process.execPath,
  ['--conditions=@fleetwire/source', '--import', tsx, main, ...process.argv.slice(2)],
  {
    stdio: 'inherit',
    // The environment goes to main.ts unchanged (it reads and validates it), plus how we were
    // called, for the hints it prints.
    // eslint-disable-next-line no-restricted-properties
    env: { FLEETWIRE_CLI: `node ${shortest(self)}`, ...process.env },
  },
);
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => child.kill(signal));
}
child.on('exit', (code, signal) => {
  // Said, or a crash (SIGSEGV, SIGABRT) would end the command without a word.
  if (code === null) process.stderr.write(`fleetwire: the server process ended by ${signal}\n`);
  process.exitCode = code ?? (signal ? 128 : 1);
});

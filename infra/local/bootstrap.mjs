#!/usr/bin/env node
// The README's two commands, from a fresh clone with nothing but Node.js 20 and npm:
//   npm start   → the workspace installed (once), the dashboard built (when its sources changed),
//                 then `fleetwire start` (embedded mode) with whatever arguments follow `--`;
//   npm test    → what the tests need installed (Debian packages, Kafka jars, kustomize, the
//                 workspace; each skipped when present), then the whole test suite;
//   install     → what `test` installs, without running anything.
// pnpm comes from the project's pinned version through npx when it is not on PATH: no global
// install. Plain JavaScript on purpose: it runs before anything is installed.
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import process from 'node:process';
import { URL, fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const PNPM_VERSION = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'))
  .packageManager.split('@')
  .pop();
const INSTALL_STAMP = join(ROOT, 'node_modules', '.fleetwire-install');
const DASHBOARD = join(ROOT, 'packages', 'dashboard');

function log(message) {
  process.stderr.write(`fleetwire: ${message}\n`);
}

/** pnpm itself when a 10.x is on PATH, else the pinned version through npx (cached after once). */
function pnpmCommand() {
  const found = spawnSync('pnpm', ['--version'], { encoding: 'utf8' });
  if (found.status === 0 && found.stdout.trim().startsWith('10.')) return ['pnpm'];
  return ['npx', '--yes', `pnpm@${PNPM_VERSION}`];
}

function run(command, args, options = {}) {
  const result = spawnSync(command, args, { cwd: ROOT, stdio: 'inherit', ...options });
  if (result.error) throw result.error;
  if (result.status !== 0) process.exit(result.status ?? 1);
}

function pnpm(pnpmCmd, args) {
  const [command, ...prefix] = pnpmCmd;
  run(command, [...prefix, ...args]);
}

/** `pnpm install` unless node_modules was installed from this very lockfile. */
function ensureWorkspace(pnpmCmd) {
  const lock = createHash('sha256')
    .update(readFileSync(join(ROOT, 'pnpm-lock.yaml')))
    .digest('hex');
  if (existsSync(INSTALL_STAMP) && readFileSync(INSTALL_STAMP, 'utf8') === lock) return;
  log('installing the workspace (pnpm install --frozen-lockfile)');
  pnpm(pnpmCmd, ['install', '--frozen-lockfile']);
  writeFileSync(INSTALL_STAMP, lock);
}

function newestMtime(path) {
  const info = statSync(path);
  if (!info.isDirectory()) return info.mtimeMs;
  let newest = info.mtimeMs;
  for (const entry of readdirSync(path)) newest = Math.max(newest, newestMtime(join(path, entry)));
  return newest;
}

/** `vite build` of the dashboard unless dist/ is newer than everything it is built from. */
function ensureDashboard(pnpmCmd) {
  const built = join(DASHBOARD, 'dist', 'site', 'index.html');
  const sources = ['src', 'public', 'index.html', 'vite.config.ts', 'package.json']
    .map((name) => join(DASHBOARD, name))
    .filter((path) => existsSync(path));
  if (existsSync(built) && statSync(built).mtimeMs >= Math.max(...sources.map(newestMtime))) {
    return;
  }
  log('building the dashboard');
  pnpm(pnpmCmd, ['--filter', '@fleetwire/dashboard', 'build']);
}

/** Runs a child in the foreground: signals go to it, its exit status becomes ours. */
function foreground(command, args, cwd = process.cwd()) {
  const child = spawn(command, args, { cwd, stdio: 'inherit' });
  for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal));
  child.on('exit', (code, signal) => process.exit(code ?? (signal ? 128 : 1)));
}

const [task, ...args] = process.argv.slice(2);
// `pnpm start -- --simulate 5` passes the `--` on (npm drops it): options follow it either way.
const rest = args[0] === '--' ? args.slice(1) : args;
const pnpmCmd = pnpmCommand();
if (task === 'start') {
  ensureWorkspace(pnpmCmd);
  ensureDashboard(pnpmCmd);
  foreground(process.execPath, [
    join(ROOT, 'services/fleetwire/bin/fleetwire.mjs'),
    'start',
    ...rest,
  ]);
} else if (task === 'test') {
  // The services the integration tiers run (as root; otherwise it names the packages to install).
  run('bash', [join(ROOT, 'infra/local/install.sh'), 'services']);
  ensureWorkspace(pnpmCmd);
  const [command, ...prefix] = pnpmCmd;
  foreground(command, [...prefix, 'exec', 'vitest', 'run', ...rest], ROOT);
} else if (task === 'install') {
  // What `test` installs, and nothing run: for suites outside vitest (the chaos suite in CI).
  run('bash', [join(ROOT, 'infra/local/install.sh'), 'services']);
  ensureWorkspace(pnpmCmd);
} else {
  log(
    'usage: node infra/local/bootstrap.mjs start [fleetwire options] | test [vitest options] | install',
  );
  process.exit(2);
}

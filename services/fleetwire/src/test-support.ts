import { spawn, type ChildProcess } from 'node:child_process';
import { request } from 'node:http';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

export const MAIN = fileURLToPath(new URL('./main.ts', import.meta.url));
export const BIN = fileURLToPath(new URL('../bin/fleetwire.mjs', import.meta.url));
// tsx is a dependency of this package, so the child resolves it from here.
export const PACKAGE_DIR = fileURLToPath(new URL('..', import.meta.url));
const children: ChildProcess[] = [];

/** Kills what a test left running (call from afterEach). */
export function killChildren(): void {
  for (const child of children.splice(0)) if (child.exitCode === null) child.kill('SIGKILL');
}

/** The environment of a child: nothing of this process's FLEETWIRE_* leaks in. */
export function childEnv(env: Record<string, string>): Record<string, string> {
  return { PATH: process.env['PATH'] ?? '', HOME: process.env['HOME'] ?? '', ...env };
}

export interface Running {
  child: ChildProcess;
  /** Every JSON log line so far. */
  logs: Record<string, unknown>[];
  /** The dashboard link of the start banner, once printed. */
  started: Promise<{ port: number; dashboardToken: string; banner: string[] }>;
  /** Resolves with the first log line that passes the test. */
  logged(test: (line: Record<string, unknown>) => boolean): Promise<Record<string, unknown>>;
  exited: Promise<{ code: number | null; stderr: string }>;
}

/** `fleetwire start` as its own process, the way `npm start` runs it. */
export function runStart(args: string[], env: Record<string, string> = {}): Running {
  const child = spawn(
    process.execPath,
    ['--conditions=@fleetwire/source', '--import', 'tsx', MAIN, 'start', ...args],
    {
      cwd: PACKAGE_DIR,
      env: childEnv({ FLEETWIRE_PORT: '0', FLEETWIRE_LOG_LEVEL: 'debug', ...env }),
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  children.push(child);
  const logs: Record<string, unknown>[] = [];
  const watchers: {
    test: (l: Record<string, unknown>) => boolean;
    resolve: (l: Record<string, unknown>) => void;
  }[] = [];
  const banner: string[] = [];
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<{ code: number | null; stderr: string }>((resolve) =>
    child.once('exit', (code) => resolve({ code, stderr })),
  );
  const started = new Promise<{ port: number; dashboardToken: string; banner: string[] }>(
    (resolve, reject) => {
      createInterface({ input: child.stdout! }).on('line', (line) => {
        if (!line.startsWith('{')) {
          banner.push(line);
          const link =
            /^Fleetwire is running\. Dashboard: http:\/\/127\.0\.0\.1:(\d+)\/\?token=(\S+)$/.exec(
              line,
            );
          if (link) resolve({ port: Number(link[1]), dashboardToken: link[2]!, banner });
          return;
        }
        const entry = JSON.parse(line) as Record<string, unknown>;
        logs.push(entry);
        for (const watcher of [...watchers]) {
          if (watcher.test(entry)) {
            watchers.splice(watchers.indexOf(watcher), 1);
            watcher.resolve(entry);
          }
        }
      });
      void exited.then(() => reject(new Error(`exited before starting: ${stderr}`)));
    },
  );
  started.catch(() => undefined);
  return {
    child,
    logs,
    started,
    exited,
    logged: (test) => {
      const seen = logs.find(test);
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve) => watchers.push({ test, resolve }));
    },
  };
}

/** Runs the CLI through its bin to the end: what `$(fleetwire token …)` sees. */
export function runCli(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      cwd: PACKAGE_DIR,
      env: childEnv(env),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.push(child);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

export function get(
  port: number,
  path: string,
  token?: string,
): Promise<{ status: number; type: string; body: string }> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = token ? { authorization: `Bearer ${token}` } : {};
    request({ host: '127.0.0.1', port, path, headers }, (res) => {
      let body = '';
      res.on('data', (chunk: Buffer) => (body += chunk.toString()));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, type: String(res.headers['content-type']), body }),
      );
    })
      .on('error', reject)
      .end();
  });
}

import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

/**
 * For the examples' tests: a real Fleetwire (`fleetwire start`, the embedded default: edge +
 * PGlite) as its own process on a free port, tokens from its CLI, and the examples themselves
 * run as their own processes, as a user would.
 */
// main.ts itself, not the bin (which runs it as a child of its own): killing what a test
// started must end Fleetwire too.
const FLEETWIRE_DIR = fileURLToPath(new URL('../services/fleetwire/', import.meta.url));
const FLEETWIRE = ['--conditions=@fleetwire/source', '--import', 'tsx', 'src/main.ts'];
const children: ChildProcess[] = [];

export interface RunningEdge {
  port: number;
  url: string;
  data: string;
  token(role: string, sub: string, ...extra: string[]): Promise<string>;
}

function env(extra: Record<string, string> = {}): Record<string, string> {
  return { PATH: process.env['PATH'] ?? '', HOME: process.env['HOME'] ?? '', ...extra };
}

export async function startEdge(): Promise<RunningEdge> {
  const data = mkdtempSync(join(tmpdir(), 'fleetwire-example-'));
  const child = spawn(process.execPath, [...FLEETWIRE, 'start', '--data', data], {
    cwd: FLEETWIRE_DIR,
    env: env({ FLEETWIRE_PORT: '0' }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const port = await new Promise<number>((resolve, reject) => {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const link = /^Fleetwire is running\. Dashboard: http:\/\/127\.0\.0\.1:(\d+)\//.exec(line);
      if (link) resolve(Number(link[1]));
    });
    child.once('exit', (code) => reject(new Error(`fleetwire start exited (${code}): ${stderr}`)));
  });
  return {
    port,
    url: `ws://127.0.0.1:${port}/ws`,
    data,
    token: async (role, sub, ...extra) => {
      const out = await run([
        ...FLEETWIRE,
        'token',
        '--data',
        data,
        '--role',
        role,
        '--sub',
        sub,
        ...extra,
      ]);
      if (out.code !== 0) throw new Error(`fleetwire token: ${out.stderr}`);
      return out.stdout.trim();
    },
  };
}

export interface Example {
  child: ChildProcess;
  /** Resolves with the first stdout line that passes the test. */
  printed(test: (line: string) => boolean): Promise<string>;
  exited: Promise<{ code: number | null; stdout: string; stderr: string }>;
}

/** An example script as its own process, from its directory, with these variables. */
export function runExample(dir: string, script: string, vars: Record<string, string>): Example {
  const child = spawn(
    process.execPath,
    ['--conditions=@fleetwire/source', '--import', 'tsx', script],
    {
      cwd: dir,
      env: env(vars),
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  children.push(child);
  const lines: string[] = [];
  const watchers: { test: (l: string) => boolean; resolve: (l: string) => void }[] = [];
  let stdout = '';
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  createInterface({ input: child.stdout! }).on('line', (line) => {
    stdout += `${line}\n`;
    lines.push(line);
    for (const watcher of [...watchers]) {
      if (!watcher.test(line)) continue;
      watchers.splice(watchers.indexOf(watcher), 1);
      watcher.resolve(line);
    }
  });
  const exited = new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) =>
    child.once('close', (code) => resolve({ code, stdout, stderr })),
  );
  return {
    child,
    exited,
    printed: (test) => {
      const seen = lines.find(test);
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        watchers.push({ test, resolve });
        void exited.then((out) => reject(new Error(`exited (${out.code}) first: ${out.stderr}`)));
      });
    },
  };
}

function run(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, args, {
      cwd: FLEETWIRE_DIR,
      env: env(),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** An HTTP request to the running edge with a bearer token; the body as parsed JSON. */
export function api(
  port: number,
  method: string,
  path: string,
  token: string,
  body?: unknown,
): Promise<{ status: number; body: unknown }> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        path,
        method,
        headers: {
          authorization: `Bearer ${token}`,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
      },
      (res) => {
        let text = '';
        res.on('data', (chunk: Buffer) => (text += chunk.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) }));
      },
    );
    req.on('error', reject);
    req.end(body === undefined ? undefined : JSON.stringify(body));
  });
}

/** Kills every process a test started (call from afterEach/afterAll). */
export function stopAll(): void {
  for (const child of children.splice(0)) if (child.exitCode === null) child.kill('SIGKILL');
}

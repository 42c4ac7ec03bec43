import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { request } from 'node:http';
import { connect, createServer, type AddressInfo, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

/**
 * The examples are tested the way a user runs them: `fleetwire start` as its own process (the
 * CLI's bin, as `npm run fleetwire` runs it), device tokens from `fleetwire token`, answers read
 * back through the HTTP API.
 */
const BIN = fileURLToPath(new URL('../services/fleetwire/bin/fleetwire.mjs', import.meta.url));

const children: ChildProcess[] = [];

/** Kills what a test left running (call from afterAll / afterEach). */
export function killChildren(): void {
  for (const child of children.splice(0)) {
    if (child.exitCode !== null || child.pid === undefined) continue;
    // The bin wrapper runs `fleetwire start` as its own child: kill the whole process group, or
    // the server outlives the test.
    try {
      process.kill(-child.pid, 'SIGKILL');
    } catch {
      child.kill('SIGKILL');
    }
  }
}

/** A child process's environment: nothing of this process's FLEETWIRE_* leaks in. */
function childEnv(env: Record<string, string>): Record<string, string> {
  return { PATH: process.env['PATH'] ?? '', HOME: process.env['HOME'] ?? '', ...env };
}

export interface Fleetwire {
  port: number;
  dataDir: string;
  dashboardToken: string;
  child: ChildProcess;
  /** SIGTERM, and the exit code. */
  stop(): Promise<number | null>;
}

/** `fleetwire start --data <dir>` on a free port (or `port`), once it printed its banner. */
export function startFleetwire(
  options: { dataDir?: string; port?: number; env?: Record<string, string> } = {},
): Promise<Fleetwire> {
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'fleetwire-example-'));
  const child = spawn(process.execPath, [BIN, 'start', '--data', dataDir], {
    detached: true,
    env: childEnv({
      FLEETWIRE_PORT: String(options.port ?? 0),
      FLEETWIRE_LOG_LEVEL: 'warn',
      ...options.env,
    }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  return new Promise((resolve, reject) => {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const link =
        /^Fleetwire is running\. Dashboard: http:\/\/127\.0\.0\.1:(\d+)\/\?token=(\S+)$/.exec(line);
      if (!link) return;
      resolve({
        port: Number(link[1]),
        dataDir,
        dashboardToken: link[2]!,
        child,
        stop: () => {
          child.kill('SIGTERM');
          return exited;
        },
      });
    });
    void exited.then((code) =>
      reject(new Error(`fleetwire exited (${code}) before starting: ${stderr}`)),
    );
  });
}

/** Runs the CLI to the end. */
export function fleetwireCli(
  args: string[],
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      env: childEnv({}),
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

/** A device token from `fleetwire token`, as the examples' READMEs mint one. */
export async function deviceToken(fleetwire: Fleetwire, sub: string): Promise<string> {
  const minted = await fleetwireCli([
    'token',
    '--role',
    'device',
    '--sub',
    sub,
    '--data',
    fleetwire.dataDir,
  ]);
  if (minted.code !== 0) throw new Error(`fleetwire token failed: ${minted.stderr}`);
  return minted.stdout.trim();
}

export function http(
  port: number,
  method: 'GET' | 'POST',
  path: string,
  token: string,
  body?: unknown,
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { authorization: `Bearer ${token}` };
    if (body !== undefined) headers['content-type'] = 'application/json';
    const req = request({ host: '127.0.0.1', port, path, method, headers }, (res) => {
      let text = '';
      res.on('data', (chunk: Buffer) => (text += chunk.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
    });
    req.on('error', reject);
    req.end(body === undefined ? undefined : JSON.stringify(body));
  });
}

/** Every stored telemetry row of a device (up to 1000), oldest first. */
export async function storedTelemetry(
  fleetwire: Fleetwire,
  deviceId: string,
): Promise<{ msgId: string; ts: number; data: Record<string, unknown> }[]> {
  const res = await http(
    fleetwire.port,
    'GET',
    `/v1/devices/${deviceId}/telemetry?from=0&to=${Date.now() + 600_000}&limit=1000`,
    fleetwire.dashboardToken,
  );
  if (res.status !== 200) throw new Error(`read API ${res.status}: ${res.body}`);
  return (
    JSON.parse(res.body) as {
      items: { msgId: string; ts: number; data: Record<string, unknown> }[];
    }
  ).items;
}

/** A service token from `fleetwire token`, for `POST /api/commands`. */
export async function serviceToken(fleetwire: Fleetwire): Promise<string> {
  const minted = await fleetwireCli([
    'token',
    '--role',
    'service',
    '--sub',
    'example-test',
    '--data',
    fleetwire.dataDir,
  ]);
  if (minted.code !== 0) throw new Error(`fleetwire token failed: ${minted.stderr}`);
  return minted.stdout.trim();
}

/** A command through `POST /api/commands`, as a service sends it; resolves with the outcome. */
export async function command(
  fleetwire: Fleetwire,
  token: string,
  target: string,
  name: string,
  params?: unknown,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await http(fleetwire.port, 'POST', '/api/commands', token, {
    target,
    name,
    ...(params === undefined ? {} : { params }),
    timeoutMs: 10_000,
  });
  return { status: res.status, body: JSON.parse(res.body) as Record<string, unknown> };
}

export interface FrontDoor {
  port: number;
  /** Where new connections go from now on. */
  target: number;
  close(): Promise<void>;
}

/**
 * A TCP forwarder in front of fleetwire, as a load balancer stands in front of edges: a device
 * keeps one URL while the server behind it is restarted on another port. (The uWS republish does
 * not set SO_REUSEADDR, so a restarted server cannot bind the old port while the connections it
 * closed sit in TIME_WAIT.)
 */
export async function frontDoor(target: number): Promise<FrontDoor> {
  const sockets = new Set<Socket>();
  const door = {
    port: 0,
    target,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
  const server = createServer((inbound) => {
    const outbound = connect(door.target, '127.0.0.1');
    for (const [a, b] of [
      [inbound, outbound],
      [outbound, inbound],
    ] as const) {
      sockets.add(a);
      a.pipe(b);
      a.on('error', () => b.destroy());
      a.on('close', () => {
        sockets.delete(a);
        b.destroy();
      });
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  door.port = (server.address() as AddressInfo).port;
  return door;
}

export interface Example {
  child: ChildProcess;
  /** Resolves with the first stdout line that passes the test. */
  printed(test: (line: string) => boolean): Promise<string>;
  exited: Promise<{ code: number | null; stdout: string; stderr: string }>;
}

/** A TypeScript example (`node --import tsx <script>`) as its own process, from its directory. */
export function runExample(dir: string, script: string, env: Record<string, string>): Example {
  const child = spawn(
    process.execPath,
    ['--conditions=@fleetwire/source', '--import', 'tsx', script],
    { cwd: dir, env: childEnv(env), stdio: ['ignore', 'pipe', 'pipe'] },
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

/** A token of any role from `fleetwire token`, with extra options (e.g. `--subdevices`). */
export async function token(
  fleetwire: Fleetwire,
  role: string,
  sub: string,
  ...extra: string[]
): Promise<string> {
  const minted = await fleetwireCli([
    'token',
    '--role',
    role,
    '--sub',
    sub,
    '--data',
    fleetwire.dataDir,
    ...extra,
  ]);
  if (minted.code !== 0) throw new Error(`fleetwire token failed: ${minted.stderr}`);
  return minted.stdout.trim();
}

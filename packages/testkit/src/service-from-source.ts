import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';

export interface ServiceFromSourceOptions {
  /** The service's package dir: the child runs there, so it resolves tsx from there. */
  packageDir: string;
  /** Entry file, relative to packageDir (e.g. `src/main.ts`). */
  entry: string;
  args?: string[];
  /** The child's whole environment besides PATH and HOME: nothing of this process leaks in. */
  env?: Record<string, string>;
}

export interface ServiceFromSource {
  child: ChildProcess;
  /** Every JSON log line so far; plain lines (e.g. a library's own warnings) go to `text`. */
  lines: Record<string, unknown>[];
  text: string[];
  /** Resolves with `port` once the service logs `"msg":"listening"`; rejects if it exits first. */
  listening: Promise<number>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>;
}

const started = new Set<ChildProcess>();

/**
 * Runs a service's `main.ts` from source as its own process, the way tests exercise signals,
 * crashes and startup errors. Each child is killed by `killServicesFromSource` (afterEach).
 */
export function runServiceFromSource(options: ServiceFromSourceOptions): ServiceFromSource {
  const child = spawn(
    process.execPath,
    ['--conditions=@fleetwire/source', '--import', 'tsx', options.entry, ...(options.args ?? [])],
    {
      cwd: options.packageDir,
      env: { PATH: process.env['PATH'] ?? '', HOME: process.env['HOME'] ?? '', ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  started.add(child);
  child.once('exit', () => started.delete(child));
  const lines: Record<string, unknown>[] = [];
  const text: string[] = [];
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<{
    code: number | null;
    signal: NodeJS.Signals | null;
    stderr: string;
  }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal, stderr })));
  const listening = new Promise<number>((resolve, reject) => {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      if (!line.startsWith('{')) {
        text.push(line);
        return;
      }
      const entry = JSON.parse(line) as Record<string, unknown>;
      lines.push(entry);
      if (entry['msg'] === 'listening') resolve(entry['port'] as number);
    });
    void exited.then(() =>
      reject(new Error(`${options.entry} exited before listening: ${stderr}`)),
    );
  });
  listening.catch(() => undefined);
  return { child, lines, text, listening, exited };
}

export function killServicesFromSource(): void {
  for (const child of started) child.kill('SIGKILL');
  started.clear();
}

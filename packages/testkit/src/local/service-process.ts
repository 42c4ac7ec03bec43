import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';

import { localScript } from '../paths.js';

/**
 * Watches the owner process; once it is gone (tests finished, crashed, or were interrupted),
 * ends the service's process group and removes its directory. This is what guarantees that no
 * service outlives the test run, whatever happens to the run.
 */
const REAPER = `
owner=$1 group=$2 dir=$3
while kill -0 "$owner" 2>/dev/null; do sleep 0.5; done
kill -TERM -- "-$group" 2>/dev/null
for _ in 1 2 3 4 5 6 7 8 9 10; do kill -0 -- "-$group" 2>/dev/null || break; sleep 0.5; done
kill -KILL -- "-$group" 2>/dev/null
[ -n "$dir" ] && rm -rf "$dir"
exit 0
`;

export interface SpawnServiceOptions {
  /** Shown in errors and logs: "redis", "kafka", … */
  name: string;
  /** An infra/local script, e.g. run-redis.sh. */
  script: string;
  args: string[];
  logFile: string;
  /** The process whose end ends the service. Defaults to this process. */
  ownerPid?: number;
  /** Removed by the reaper when the owner dies. */
  dir?: string;
}

/** A service started from an infra/local script in its own process group. */
export class ServiceProcess {
  readonly name: string;
  readonly logFile: string;
  readonly exited: Promise<number | null>;
  private readonly child: ChildProcess;
  private readonly reaper: ChildProcess;
  private exitCode: number | null | undefined;

  constructor(options: SpawnServiceOptions) {
    this.name = options.name;
    this.logFile = options.logFile;
    const log = openSync(options.logFile, 'a');
    try {
      this.child = spawn('bash', [localScript(options.script), ...options.args], {
        detached: true,
        stdio: ['ignore', log, log],
      });
    } finally {
      closeSync(log);
    }
    this.exited = new Promise((resolve) => {
      this.child.once('exit', (code, signal) => {
        this.exitCode = code ?? (signal ? null : 0);
        resolve(this.exitCode);
      });
    });
    const pid = this.child.pid;
    if (pid === undefined) throw new Error(`${this.name}: spawn failed`);
    this.reaper = spawn(
      'bash',
      [
        '-c',
        REAPER,
        'reaper',
        String(options.ownerPid ?? process.pid),
        String(pid),
        options.dir ?? '',
      ],
      { detached: true, stdio: 'ignore' },
    );
    this.child.unref();
    this.reaper.unref();
  }

  get pid(): number {
    return this.child.pid as number;
  }

  get reaperPid(): number {
    return this.reaper.pid as number;
  }

  /** Undefined while running; otherwise a short reason with the tail of the log. */
  exitReason(): string | undefined {
    if (this.exitCode === undefined) return undefined;
    return `exited with code ${this.exitCode}; last log lines (${this.logFile}):\n${this.logTail()}`;
  }

  logTail(lines = 20): string {
    try {
      return readFileSync(this.logFile, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
    } catch {
      return '(no log)';
    }
  }

  /** SIGTERM to the whole group, SIGKILL after `graceMs`. Resolves once the service is gone. */
  async stop(graceMs = 10_000): Promise<void> {
    this.stopReaper();
    if (this.exitCode !== undefined) return;
    this.signalGroup('SIGTERM');
    const timer = setTimeout(() => this.signalGroup('SIGKILL'), graceMs);
    await this.exited;
    clearTimeout(timer);
    // Children of the service (e.g. PostgreSQL backends) may outlive the leader by a moment.
    this.signalGroup('SIGKILL');
  }

  /** SIGKILL to the whole group: a crash, as a test of recovery wants it. */
  async kill(): Promise<void> {
    this.stopReaper();
    this.signalGroup('SIGKILL');
    await this.exited;
  }

  private stopReaper(): void {
    if (this.reaper.exitCode === null) this.reaper.kill('SIGKILL');
  }

  private signalGroup(signal: NodeJS.Signals): void {
    try {
      process.kill(-this.pid, signal);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
    }
  }
}

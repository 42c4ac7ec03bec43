/** The benchmark's side of its client processes: fork one, give it a task, await its reports. */
import { fork, type ChildProcess } from 'node:child_process';
import { randomInt } from 'node:crypto';
import { fileURLToPath } from 'node:url';

import type { Task, WorkerReport } from './tasks.js';

const WORKER = fileURLToPath(new URL('./client-worker.ts', import.meta.url));

/**
 * A loopback source address no earlier client process of this run used, starting at a random
 * 127.x.0.0/16 per run. A client binds its source address before connecting, and bind() hands
 * out only ports no socket on that address holds, TIME_WAIT included: with the address reused,
 * every workload left thousands behind and the next connect storms slowed down run after run
 * (raw uWS: 10.1k, 9.2k, 2.6k, then 714 upgrades/s in four rounds of one run), which made the
 * storm row's rate noise. A process has ~28k ports to itself this way.
 */
let sourcesUsed = 0;
const SOURCE_BLOCK = 1 + randomInt(254);
export function newSourceAddress(): string {
  sourcesUsed += 1;
  return `127.${SOURCE_BLOCK}.${Math.floor(sourcesUsed / 250) % 250}.${1 + (sourcesUsed % 250)}`;
}

export class ClientProcess {
  private readonly child: ChildProcess;
  private readonly reports: WorkerReport[] = [];
  private readonly waiters: Array<() => void> = [];
  private failure: Error | undefined;

  constructor(task: Task) {
    this.child = fork(WORKER, [], { execArgv: ['--import', 'tsx'], stdio: 'inherit' });
    this.child.on('message', (report: WorkerReport) => {
      if (report.kind === 'error') this.failure = new Error(`client: ${report.message}`);
      this.reports.push(report);
      for (const wake of this.waiters.splice(0)) wake();
    });
    this.child.once('exit', (code) => {
      this.failure ??= code === 0 || code === null ? undefined : new Error(`client exited ${code}`);
      for (const wake of this.waiters.splice(0)) wake();
    });
    this.child.send(task);
  }

  /** The next report of this kind (earlier ones included); rejects past `timeoutMs`. */
  async next<K extends WorkerReport['kind']>(
    kind: K,
    timeoutMs: number,
  ): Promise<Extract<WorkerReport, { kind: K }>> {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const at = this.reports.findIndex((r) => r.kind === kind);
      if (at >= 0) return this.reports.splice(at, 1)[0] as Extract<WorkerReport, { kind: K }>;
      if (this.failure) throw this.failure;
      const left = deadline - performance.now();
      if (left <= 0) throw new Error(`no ${kind} report within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  send(message: { kind: 'go' | 'stats' | 'close' }): void {
    if (this.child.connected) this.child.send(message);
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null) return;
    const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    this.child.kill('SIGKILL');
    await exited;
  }
}

/** The benchmark's side of its client processes: fork one, give it a task, await its reports. */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

import type { Task, WorkerReport } from './tasks.js';

const WORKER = fileURLToPath(new URL('./client-worker.ts', import.meta.url));

/**
 * Source addresses for client processes: each (source, destination) pair has ~28k ephemeral
 * ports, and a process ~15k sockets, so process i binds 127.0.0.(2 + i).
 */
export const sourceAddress = (index: number): string => `127.0.0.${2 + (index % 250)}`;

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

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { ServiceProcess } from './service-process.js';
import { waitUntil } from './wait.js';

export interface LocalServiceOptions {
  /** The process whose end ends the service (see ServiceProcess). Defaults to this process. */
  ownerPid?: number;
  /** Readiness timeout for each start. */
  startTimeoutMs?: number;
}

/**
 * A Redis, PostgreSQL or Kafka server run as a local process on a fixed port with its data in
 * its own temp dir. It can be stopped, killed and started again on the same port and data,
 * which is what restart and outage tests need.
 */
export abstract class LocalService {
  readonly dir: string;
  protected process: ServiceProcess | undefined;
  private starts = 0;

  protected constructor(
    readonly name: string,
    private readonly script: string,
    protected readonly options: LocalServiceOptions = {},
  ) {
    this.dir = mkdtempSync(join(tmpdir(), `fleetwire-${name}-`));
  }

  /** The arguments of the run script (data dir first). */
  protected abstract scriptArgs(): string[];

  /** Resolves true once the service answers a real request. */
  protected abstract probe(): Promise<boolean>;

  get running(): boolean {
    return this.process !== undefined && this.process.exitReason() === undefined;
  }

  get logFile(): string {
    return join(this.dir, `${this.name}.log`);
  }

  get pid(): number | undefined {
    return this.process?.pid;
  }

  async start(): Promise<void> {
    if (this.running) return;
    this.starts += 1;
    const proc = new ServiceProcess({
      name: this.name,
      script: this.script,
      args: this.scriptArgs(),
      logFile: this.logFile,
      dir: this.dir,
      ...(this.options.ownerPid === undefined ? {} : { ownerPid: this.options.ownerPid }),
    });
    this.process = proc;
    try {
      await waitUntil(() => this.probe(), {
        what: `${this.name} (start #${this.starts}, log ${this.logFile})`,
        timeoutMs: this.options.startTimeoutMs ?? 60_000,
        abort: () => proc.exitReason(),
      });
    } catch (error) {
      await proc.kill();
      throw error;
    }
  }

  /** Graceful stop; data stays for a later start(). */
  async stop(): Promise<void> {
    await this.process?.stop();
  }

  /** Crash: SIGKILL to the service's process group; data stays for a later start(). */
  async kill(): Promise<void> {
    await this.process?.kill();
  }

  /** Stop and remove the data dir. */
  async dispose(): Promise<void> {
    await this.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

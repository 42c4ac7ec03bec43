import { RepeatedLog, type Counter } from '@fleetwire/metrics';
import type { Logger } from 'pino';

/**
 * Failures of a dependency (the bus, the presence store) that are expected while it is away:
 * counted by dependency and operation, and logged once per interval per dependency with how
 * many there were, without a stack trace. A Redis outage under traffic must not flood the logs.
 */
export class DependencyFailures {
  private readonly logs = new Map<
    string,
    RepeatedLog<{ operation: string; code: string; message: string }>
  >();

  private readonly counter: Counter<'dependency' | 'operation'> | undefined;
  private readonly intervalMs: number;

  constructor(
    private readonly logger: Logger,
    options: { counter?: Counter<'dependency' | 'operation'>; intervalMs?: number } = {},
  ) {
    this.counter = options.counter;
    this.intervalMs = options.intervalMs ?? 10_000;
  }

  failed(dependency: string, operation: string, error: unknown): void {
    this.counter?.inc({ dependency, operation });
    let log = this.logs.get(dependency);
    if (!log) {
      log = new RepeatedLog(
        (count, last) =>
          this.logger.warn({ dependency, count, last }, `${dependency} operations failed`),
        this.intervalMs,
      );
      this.logs.set(dependency, log);
    }
    const { code, message } = error as { code?: unknown; message?: unknown };
    log.hit({
      operation,
      code: typeof code === 'string' ? code : 'unknown',
      message: typeof message === 'string' ? message : String(error),
    });
  }

  /** Logs what is counted and not yet logged (shutdown). */
  flush(): void {
    for (const log of this.logs.values()) log.flush();
  }
}

import { RepeatedLog } from '@fleetwire/metrics';
import type { Logger } from 'pino';

/**
 * Failures of a dependency (the bus, the presence store) that are expected while it is away:
 * counted by the metrics where they matter, and logged once per interval per dependency with how
 * many there were, without a stack trace. A Redis outage under traffic must not flood the logs.
 */
export class DependencyFailures {
  private readonly logs = new Map<
    string,
    RepeatedLog<{ operation: string; code: string; message: string }>
  >();

  constructor(
    private readonly logger: Logger,
    private readonly intervalMs = 10_000,
  ) {}

  failed(dependency: string, operation: string, error: unknown): void {
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

import type { TelemetryStore } from '@fleetwire/store';
import type { Logger } from 'pino';

import type { IngestMetrics } from './metrics.js';

export interface MaintenanceOptions {
  aheadDays: number;
  retentionDays: number;
  intervalMs: number;
}

/** Keeps partitions ahead of time and drops those past retention, at start and on a timer. */
export class PartitionMaintenance {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;

  constructor(
    private readonly store: TelemetryStore,
    private readonly options: MaintenanceOptions,
    private readonly metrics: IngestMetrics,
    private readonly logger: Logger,
  ) {}

  async runOnce(now = Date.now()): Promise<void> {
    const { created, dropped } = await this.store.maintain(now, this.options);
    this.metrics.partitionsCreated.inc(created.length);
    this.metrics.partitionsDropped.inc(dropped.length);
    if (created.length > 0 || dropped.length > 0) {
      const days = (list: number[]) => list.map((d) => new Date(d).toISOString().slice(0, 10));
      this.logger.info({ created: days(created), dropped: days(dropped) }, 'partition maintenance');
    }
  }

  start(): void {
    this.timer = setInterval(() => {
      // A failed round (database briefly away) is retried at the next interval.
      this.running ??= this.runOnce()
        .catch((error: unknown) => this.logger.warn({ err: error }, 'partition maintenance failed'))
        .finally(() => (this.running = undefined));
    }, this.options.intervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }
}

import type { TelemetryRecord } from '@fleetwire/protocol';

import { TelemetryLogError, type TelemetryLog } from './telemetry-log.js';

/**
 * The in-process log of the embedded mode: one ordered partition in memory. Durable as long as
 * the process lives, which is what embedded mode promises; the ingest side reads it by offset.
 */
export class MemoryTelemetryLog implements TelemetryLog {
  readonly ready = true;
  private readonly records: TelemetryRecord[] = [];
  private readonly waiters = new Set<() => void>();
  private closed = false;

  async append(record: TelemetryRecord): Promise<void> {
    if (this.closed) throw new TelemetryLogError('LOG_CLOSED', 'log closed');
    this.records.push(record);
    for (const wake of this.waiters) wake();
    this.waiters.clear();
  }

  async flush(): Promise<void> {
    // Appends are durable (in memory) as soon as they resolve.
  }

  async close(): Promise<void> {
    this.closed = true;
  }

  get length(): number {
    return this.records.length;
  }

  /** Up to `max` records from `offset`; `next` is the offset to read from after them. */
  read(offset: number, max: number): { records: TelemetryRecord[]; next: number } {
    const records = this.records.slice(offset, offset + max);
    return { records, next: offset + records.length };
  }

  /** Resolves once a record exists at `offset`. */
  async waitFor(offset: number): Promise<void> {
    while (this.records.length <= offset) {
      await new Promise<void>((resolve) => this.waiters.add(resolve));
    }
  }
}

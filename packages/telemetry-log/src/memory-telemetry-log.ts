import type { TelemetryRecord } from '@fleetwire/protocol';

import { TelemetryLogError, type TelemetryLog } from './telemetry-log.js';

/**
 * The in-process log of the embedded mode: one ordered partition in memory. Durable as long as
 * the process lives, which is what embedded mode promises; the ingest side reads it with `MemoryLogReader`.
 */
export class MemoryTelemetryLog implements TelemetryLog {
  readonly ready = true;
  /** Records from offset `base` on; earlier ones were released by the reader. */
  private records: TelemetryRecord[] = [];
  private base = 0;
  private readonly waiters = new Set<() => void>();
  private shut = false;

  async append(record: TelemetryRecord): Promise<void> {
    if (this.shut) throw new TelemetryLogError('LOG_CLOSED', 'log closed');
    this.records.push(record);
    for (const wake of this.waiters) wake();
    this.waiters.clear();
  }

  async flush(): Promise<void> {
    // Appends are durable (in memory) as soon as they resolve.
  }

  async close(): Promise<void> {
    this.shut = true;
    for (const wake of this.waiters) wake();
    this.waiters.clear();
  }

  /** True once closed: nothing more will be appended. */
  get closed(): boolean {
    return this.shut;
  }

  /** The offset the next append gets. */
  get length(): number {
    return this.base + this.records.length;
  }

  /** Records held in memory: appended and not yet released. */
  get held(): number {
    return this.records.length;
  }

  /** Up to `max` records from `offset`; `next` is the offset to read from after them. */
  read(offset: number, max: number): { records: TelemetryRecord[]; next: number } {
    const from = Math.max(offset, this.base) - this.base;
    const records = this.records.slice(from, from + max);
    return { records, next: this.base + from + records.length };
  }

  /**
   * Forgets every record before `offset`: the reader stored them. Without it an embedded run
   * would keep every message it ever took in memory.
   */
  release(offset: number): void {
    const count = Math.min(Math.max(0, offset - this.base), this.records.length);
    if (count === 0) return;
    this.records = this.records.slice(count);
    this.base += count;
  }

  /** Resolves once a record exists at `offset`, or the log closed. */
  async waitFor(offset: number): Promise<void> {
    while (this.length <= offset && !this.shut) {
      await new Promise<void>((resolve) => this.waiters.add(resolve));
    }
  }
}

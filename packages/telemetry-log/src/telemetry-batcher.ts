import type { TelemetryRecord } from '@fleetwire/protocol';

import type { TelemetryLogMetrics } from './metrics.js';
import { TelemetryLogError } from './telemetry-log.js';

export interface BatcherOptions {
  /** Send when this many records wait. */
  maxBatch: number;
  /** …or when the oldest waiting record has waited this long (kafkajs has no linger of its own). */
  lingerMs: number;
  /** Records waiting plus in flight; past it, append refuses at once (bounded memory). */
  maxBuffered: number;
  send: (records: TelemetryRecord[]) => Promise<void>;
  metrics?: TelemetryLogMetrics;
}

interface Entry {
  record: TelemetryRecord;
  resolve: () => void;
  reject: (error: unknown) => void;
}

/**
 * Batches records by size and time with one batch in flight at a time, which keeps each
 * device's order and bounds the load on the log when it is slow.
 */
export class TelemetryBatcher {
  private waiting: Entry[] = [];
  private inFlight = 0;
  private timer: NodeJS.Timeout | undefined;
  private sending: Promise<void> | undefined;
  private closed = false;

  constructor(private readonly options: BatcherOptions) {}

  get depth(): number {
    return this.waiting.length + this.inFlight;
  }

  append(record: TelemetryRecord): Promise<void> {
    const { metrics } = this.options;
    if (this.closed) return Promise.reject(new TelemetryLogError('LOG_CLOSED', 'log closed'));
    if (this.depth >= this.options.maxBuffered) {
      metrics?.refused.inc({ reason: 'buffer_full' });
      return Promise.reject(
        new TelemetryLogError('LOG_BUFFER_FULL', `${this.depth} records waiting for the log`),
      );
    }
    return new Promise<void>((resolve, reject) => {
      this.waiting.push({ record, resolve, reject });
      metrics?.bufferDepth.set(this.depth);
      if (this.waiting.length >= this.options.maxBatch) this.kick();
      else this.timer ??= setTimeout(() => this.kick(), this.options.lingerMs);
    });
  }

  /** Sends everything waiting now and resolves when nothing is waiting or in flight. */
  async flush(): Promise<void> {
    while (this.depth > 0) {
      this.kick();
      await this.sending;
    }
  }

  async close(): Promise<void> {
    await this.flush();
    this.closed = true;
  }

  private kick(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.sending || this.waiting.length === 0) return;
    this.sending = this.sendLoop().finally(() => {
      this.sending = undefined;
      // Appended after the loop last looked, by a continuation of its own acks (which run before
      // this): their kick found the loop still running, and no timer is left to send them.
      if (this.waiting.length > 0) this.kick();
    });
  }

  private async sendLoop(): Promise<void> {
    const { metrics } = this.options;
    while (this.waiting.length > 0) {
      const batch = this.waiting.splice(0, this.options.maxBatch);
      this.inFlight = batch.length;
      metrics?.batchSize.observe(batch.length);
      const stopTimer = metrics?.produceLatency.startTimer();
      try {
        await this.options.send(batch.map((e) => e.record));
        stopTimer?.();
        metrics?.records.inc({ outcome: 'stored' }, batch.length);
        for (const entry of batch) entry.resolve();
      } catch (cause) {
        metrics?.records.inc({ outcome: 'failed' }, batch.length);
        metrics?.refused.inc({ reason: 'unavailable' }, batch.length);
        const error = new TelemetryLogError('LOG_UNAVAILABLE', 'the log did not take the batch', {
          cause,
        });
        for (const entry of batch) entry.reject(error);
      } finally {
        this.inFlight = 0;
        metrics?.bufferDepth.set(this.depth);
      }
    }
  }
}

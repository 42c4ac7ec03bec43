import type { Bus, Retention } from '@fleetwire/bus';

import type { EdgeMetrics } from '../metrics.js';
import type { DependencyFailures } from './dependency-failures.js';
import { encodeTopicMessage, inbox, type Gap, type WideGap } from './node-messages.js';

interface Pending {
  topic: string;
  payload: Buffer;
  retention: Retention;
}

interface Range {
  from: number;
  to: number;
  count: number;
}

/**
 * Appends (batches) in flight at once, one per tenant at most: what arrives while a tenant's
 * append is out waits and leaves as one batch (under load the script runs and socket writes per
 * message fall), and a tenant's order never depends on the client keeping two appends in order
 * (ioredis Cluster resends a command that met a connection still opening 100 ms later, behind
 * the ones sent after it).
 */
const WINDOW = 4;
/** Messages of one tenant appended in one call (one script run in Redis). */
const BATCH = 128;
/** After a failed append while the bus still says it is up: wait this long before resending. */
const RETRY_MS = 500;

export interface OutboxLimits {
  maxMessages: number;
  maxBytes: number;
  /** Topics whose drops are announced one by one; past it, a gap for the whole tenant. */
  maxGapTopics: number;
}

/**
 * Every publish of a history-mode edge enters the bus through here, in order. While the bus is
 * away the outbox keeps what could not be appended (bounded by count and bytes, counted in
 * `fleetwire_edge_bus_outbox_messages`) and appends it when the bus is back, oldest first. What
 * does not fit is dropped, counted, and remembered as a gap per topic (or per tenant, past
 * maxGapTopics), announced once everything kept has been appended: subscribers on every node
 * get a `gap` with the time range, and the gap is in the topic's history for those recovering
 * later. A message whose append reached Redis but whose answer was lost is appended again when
 * resent (at least once, never silently lost).
 */
export class BusOutbox {
  private readonly queue: Pending[] = [];
  /** queue[0, sent) are in flight. */
  private sent = 0;
  private inFlight = 0;
  private readonly tenantsInFlight = new Set<string>();
  private bytes = 0;
  private failed = false;
  private retryTimer: NodeJS.Timeout | undefined;
  private pumpSoon: NodeJS.Immediate | undefined;
  private readonly gaps = new Map<string, Range & { retention: Retention }>();
  private readonly wideGaps = new Map<string, Range>();

  constructor(
    private readonly bus: Bus,
    private readonly limits: OutboxLimits,
    private readonly metrics: EdgeMetrics,
    private readonly failures: DependencyFailures,
  ) {
    bus.onStatus((ready) => {
      if (ready) this.pump();
    });
  }

  /** Messages waiting for the bus. */
  get size(): number {
    return this.queue.length;
  }

  push(topic: string, payload: Buffer, retention: Retention, ts: number): void {
    if (
      this.queue.length >= this.limits.maxMessages ||
      this.bytes + payload.byteLength > this.limits.maxBytes
    ) {
      this.drop(topic, retention, ts);
      return;
    }
    this.enqueue({ topic, payload, retention });
  }

  close(): void {
    clearTimeout(this.retryTimer);
  }

  // A new message waits for the end of the event-loop turn: what the turn published (a connect
  // storm's online events, a burst of telemetry) leaves as one script run per tenant and one
  // socket write, where appending at once cost a run and a write each.
  private enqueue(item: Pending): void {
    this.queue.push(item);
    this.bytes += item.payload.byteLength;
    this.metrics.busOutbox.set(this.queue.length);
    this.pumpSoon ??= setImmediate(() => {
      this.pumpSoon = undefined;
      this.pump();
    });
  }

  private pump(): void {
    while (
      !this.failed &&
      this.bus.ready &&
      this.inFlight < WINDOW &&
      this.sent < this.queue.length
    ) {
      // Consecutive messages of one tenant: order within a tenant is what positions keep.
      const first = this.queue[this.sent] as Pending;
      const tenant = tenantOf(first.topic);
      if (this.tenantsInFlight.has(tenant)) return;
      const batch: Pending[] = [];
      while (batch.length < BATCH && this.sent < this.queue.length) {
        const next = this.queue[this.sent] as Pending;
        if (tenantOf(next.topic) !== tenant) break;
        batch.push(next);
        this.sent += 1;
      }
      this.inFlight += 1;
      this.tenantsInFlight.add(tenant);
      this.bus.append(batch).then(
        () => this.appended(tenant, batch),
        (error: unknown) => this.notAppended(tenant, error),
      );
    }
  }

  private appended(tenant: string, batch: Pending[]): void {
    this.inFlight -= 1;
    this.tenantsInFlight.delete(tenant);
    // Answers come back in order on one connection: the batch is at the head, but after a
    // failure (when everything unconfirmed was rewound) it may not be.
    if (this.queue[0] === batch[0]) {
      this.queue.splice(0, batch.length);
      this.sent -= batch.length;
    } else {
      for (const item of batch) {
        const at = this.queue.indexOf(item);
        if (at < 0) continue;
        this.queue.splice(at, 1);
        if (at < this.sent) this.sent -= 1;
      }
    }
    for (const item of batch) this.bytes -= item.payload.byteLength;
    this.metrics.busOutbox.set(this.queue.length);
    if (this.queue.length === 0) this.announceGaps();
    this.pump();
  }

  private notAppended(tenant: string, error: unknown): void {
    this.inFlight -= 1;
    this.tenantsInFlight.delete(tenant);
    if (!this.failed) this.failures.failed('bus', 'append', error);
    this.failed = true;
    if (this.inFlight > 0) return;
    // Everything still queued goes again, from the oldest, once the bus is back.
    this.sent = 0;
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => {
      this.failed = false;
      this.pump();
    }, RETRY_MS);
    this.retryTimer.unref();
  }

  private drop(topic: string, retention: Retention, ts: number): void {
    this.metrics.busOutboxDropped.inc();
    const known = this.gaps.get(topic);
    if (known) {
      widen(known, ts);
      return;
    }
    if (this.gaps.size < this.limits.maxGapTopics) {
      this.gaps.set(topic, { from: ts, to: ts, count: 1, retention });
      return;
    }
    const tenant = topic.slice(0, topic.indexOf('/'));
    const wide = this.wideGaps.get(tenant);
    if (wide) widen(wide, ts);
    else this.wideGaps.set(tenant, { from: ts, to: ts, count: 1 });
  }

  /** Gaps go after everything kept, through the same queue (never dropped themselves). */
  private announceGaps(): void {
    for (const [topic, range] of this.gaps) {
      const gap: Gap = {
        type: 'gap',
        topic: topic.slice(topic.indexOf('/') + 1),
        from: range.from,
        to: range.to,
        reason: 'outbox_full',
        count: range.count,
      };
      this.queue.push({ topic, payload: encodeTopicMessage(gap), retention: range.retention });
    }
    this.gaps.clear();
    for (const [tenant, range] of this.wideGaps) {
      const gap: WideGap = { type: 'wide_gap', tenant, ...range };
      this.bus.send(inbox.gaps, encodeTopicMessage(gap)).catch((error: unknown) => {
        // Kept for the next time the outbox empties.
        this.failures.failed('bus', 'gap', error);
        const again = this.wideGaps.get(tenant);
        if (again) merge(again, range);
        else this.wideGaps.set(tenant, range);
      });
    }
    this.wideGaps.clear();
    this.metrics.busOutbox.set(this.queue.length);
  }
}

function tenantOf(topic: string): string {
  return topic.slice(0, topic.indexOf('/'));
}

function widen(range: Range, ts: number): void {
  merge(range, { from: ts, to: ts, count: 1 });
}

function merge(range: Range, more: Range): void {
  range.from = Math.min(range.from, more.from);
  range.to = Math.max(range.to, more.to);
  range.count += more.count;
}

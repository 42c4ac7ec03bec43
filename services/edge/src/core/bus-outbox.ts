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
 * Tenants with an append in flight at once. A tenant has one at most: what arrives while it is out
 * waits and leaves as the next batch (under load the script runs and socket writes per message
 * fall), and a tenant's order never rests on the client keeping two appends in order (ioredis
 * Cluster resends a command that met a connection still opening ~100 ms later, behind the ones
 * sent after it).
 */
const WINDOW = 32;
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

/** One tenant's messages, oldest first; the first `inFlight` are being appended. */
interface TenantQueue {
  items: Pending[];
  inFlight: number;
}

/**
 * Every publish of a history-mode edge enters the bus through here, in order per tenant (the
 * order positions keep; tenants are independent). While the bus is away the outbox keeps what
 * could not be appended (bounded by count and bytes, counted in
 * `fleetwire_edge_bus_outbox_messages`) and appends it when the bus is back, oldest first. What
 * does not fit is dropped, counted, and remembered as a gap per topic (or per tenant, past
 * maxGapTopics), announced once everything kept has been appended: subscribers on every node
 * get a `gap` with the time range, and the gap is in the topic's history for those recovering
 * later. A message whose append reached Redis but whose answer was lost is appended again when
 * resent (at least once, never silently lost).
 */
export class BusOutbox {
  private readonly tenants = new Map<string, TenantQueue>();
  /** Tenants with messages and no append in flight, in the order they became so (a FIFO). */
  private readonly waiting = new Set<string>();
  private count = 0;
  private inFlight = 0;
  private bytes = 0;
  private failed = false;
  private closing = false;
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
    return this.count;
  }

  push(topic: string, payload: Buffer, retention: Retention, ts: number): void {
    if (
      this.count >= this.limits.maxMessages ||
      this.bytes + payload.byteLength > this.limits.maxBytes
    ) {
      this.drop(topic, retention, ts);
      return;
    }
    this.enqueue({ topic, payload, retention });
  }

  /**
   * The node is stopping: what is queued goes now, and so does whatever is pushed from here on
   * (the offline events of the last connections), while the bus is still open.
   */
  close(): void {
    this.closing = true;
    clearTimeout(this.retryTimer);
    clearImmediate(this.pumpSoon);
    this.pumpSoon = undefined;
    this.pump();
  }

  // A new message waits for the end of the event-loop turn: what the turn published (a connect
  // storm's online events, a burst of telemetry) leaves as one script run per tenant and one
  // socket write, where appending at once cost a run and a write each.
  private enqueue(item: Pending): void {
    const tenant = tenantOf(item.topic);
    let queue = this.tenants.get(tenant);
    if (!queue) {
      queue = { items: [], inFlight: 0 };
      this.tenants.set(tenant, queue);
    }
    queue.items.push(item);
    this.count += 1;
    this.bytes += item.payload.byteLength;
    this.metrics.busOutbox.set(this.count);
    if (queue.inFlight === 0) this.waiting.add(tenant);
    if (this.closing) this.pump();
    else {
      this.pumpSoon ??= setImmediate(() => {
        this.pumpSoon = undefined;
        this.pump();
      });
    }
  }

  private pump(): void {
    while (!this.failed && this.bus.ready && this.inFlight < WINDOW && this.waiting.size > 0) {
      const tenant = this.waiting.values().next().value as string;
      this.waiting.delete(tenant);
      const queue = this.tenants.get(tenant);
      if (!queue || queue.inFlight > 0 || queue.items.length === 0) continue;
      const batch = queue.items.slice(0, BATCH);
      queue.inFlight = batch.length;
      this.inFlight += 1;
      this.bus.append(batch).then(
        () => this.appended(tenant, queue),
        (error: unknown) => this.notAppended(queue, error),
      );
    }
  }

  private appended(tenant: string, queue: TenantQueue): void {
    this.inFlight -= 1;
    const done = queue.items.splice(0, queue.inFlight);
    queue.inFlight = 0;
    this.count -= done.length;
    for (const item of done) this.bytes -= item.payload.byteLength;
    this.metrics.busOutbox.set(this.count);
    if (queue.items.length > 0) this.waiting.add(tenant);
    else this.tenants.delete(tenant);
    if (this.failed) {
      // Another tenant's append failed meanwhile: resend once everything out has answered.
      if (this.inFlight === 0) this.retryLater();
      return;
    }
    if (this.count === 0) this.announceGaps();
    this.pump();
  }

  private notAppended(queue: TenantQueue, error: unknown): void {
    this.inFlight -= 1;
    // The batch stays at the head of its tenant's queue, to go again first.
    queue.inFlight = 0;
    if (!this.failed) this.failures.failed('bus', 'append', error);
    this.failed = true;
    if (this.inFlight === 0) this.retryLater();
  }

  /** Everything still queued goes again, each tenant from its oldest, once the bus is back. */
  private retryLater(): void {
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => {
      this.failed = false;
      for (const tenant of this.tenants.keys()) this.waiting.add(tenant);
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
      this.enqueue({ topic, payload: encodeTopicMessage(gap), retention: range.retention });
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

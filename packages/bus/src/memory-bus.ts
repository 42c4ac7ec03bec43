import { PatternIndex } from '@fleetwire/protocol';

import { BusListeners } from './bus-listeners.js';
import { BusError, RefCounts, type Bus } from './bus.js';
import type { Appended, HistoryQuery, HistoryRead, Position } from './history.js';
import { MemoryHistory } from './memory-history.js';

/**
 * The in-process twin of the Redis bus for the embedded mode and for tests with several nodes
 * in one process. Delivery is asynchronous (a microtask), like a network hop, and ordered.
 */
export class MemoryBusHub {
  readonly nodes = new Set<MemoryBus>();
  readonly history: MemoryHistory;

  /** `now`: the history's clock (tests move it to expire history). */
  constructor(options: { now?: () => number } = {}) {
    this.history = new MemoryHistory(options.now);
  }

  connect(nodeId: string): MemoryBus {
    const bus = new MemoryBus(this, nodeId);
    this.nodes.add(bus);
    return bus;
  }
}

export class MemoryBus extends BusListeners implements Bus {
  readonly ready = true;
  private readonly patterns = new PatternIndex();
  private readonly inboxes = new RefCounts();
  private closed = false;

  constructor(
    private readonly hub: MemoryBusHub,
    readonly nodeId: string,
  ) {
    super();
  }

  async publish(topic: string, payload: Uint8Array): Promise<void> {
    this.assertOpen();
    const copy = Buffer.from(payload);
    for (const node of this.hub.nodes) {
      if (node === this || node.patterns.match(topic).length === 0) continue;
      queueMicrotask(() => node.deliverTopic(topic, copy));
    }
  }

  async append(batch: readonly Appended[]): Promise<Position[]> {
    this.assertOpen();
    return batch.map(({ topic, payload, retention }) => {
      const copy = Buffer.from(payload);
      const position = this.hub.history.append(topic, copy, retention);
      for (const node of this.hub.nodes) {
        if (node.patterns.match(topic).length === 0) continue;
        queueMicrotask(() => node.deliverTopic(topic, copy, position));
      }
      return position;
    });
  }

  async readHistory(query: HistoryQuery): Promise<HistoryRead> {
    this.assertOpen();
    return this.hub.history.read(query);
  }

  /** Deliveries are microtasks queued in order: one queued now runs after all of them. */
  sync(): Promise<void> {
    this.assertOpen();
    return new Promise((resolve) => queueMicrotask(resolve));
  }

  async addPattern(pattern: string): Promise<void> {
    this.assertOpen();
    this.patterns.add(pattern);
  }

  async removePattern(pattern: string): Promise<void> {
    this.patterns.remove(pattern);
  }

  async send(inbox: string, payload: Uint8Array): Promise<number> {
    this.assertOpen();
    const copy = Buffer.from(payload);
    let receivers = 0;
    for (const node of this.hub.nodes) {
      if (!node.inboxes.has(inbox)) continue;
      receivers += 1;
      queueMicrotask(() => node.deliverInbox(inbox, copy));
    }
    return receivers;
  }

  async listen(inbox: string): Promise<void> {
    this.assertOpen();
    this.inboxes.add(inbox);
  }

  async unlisten(inbox: string): Promise<void> {
    this.inboxes.remove(inbox);
  }

  override onStatus(): void {
    // Always ready: there is no connection to lose.
  }

  holdings(): { patterns: number; inboxes: number } {
    return { patterns: this.patterns.size, inboxes: this.inboxes.size };
  }

  async close(): Promise<void> {
    this.closed = true;
    this.hub.nodes.delete(this);
    this.dropListeners();
  }

  private assertOpen(): void {
    if (this.closed) throw new BusError('BUS_CLOSED', `bus of ${this.nodeId} is closed`);
  }
}

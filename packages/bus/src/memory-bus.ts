import { PatternIndex } from '@fleetwire/protocol';

import { BusError, RefCounts, type Bus } from './bus.js';

/**
 * The in-process twin of the Redis bus for the embedded mode and for tests with several nodes
 * in one process. Delivery is asynchronous (a microtask), like a network hop, and ordered.
 */
export class MemoryBusHub {
  readonly nodes = new Set<MemoryBus>();

  connect(nodeId: string): MemoryBus {
    const bus = new MemoryBus(this, nodeId);
    this.nodes.add(bus);
    return bus;
  }
}

export class MemoryBus implements Bus {
  readonly ready = true;
  private readonly patterns = new PatternIndex();
  private readonly inboxes = new RefCounts();
  private topicHandlers: ((topic: string, payload: Buffer) => void)[] = [];
  private inboxHandlers: ((inbox: string, payload: Buffer) => void)[] = [];
  private closed = false;

  constructor(
    private readonly hub: MemoryBusHub,
    readonly nodeId: string,
  ) {}

  async publish(topic: string, payload: Uint8Array): Promise<void> {
    this.assertOpen();
    const copy = Buffer.from(payload);
    for (const node of this.hub.nodes) {
      if (node === this || node.patterns.match(topic).length === 0) continue;
      queueMicrotask(() => node.topicHandlers.forEach((h) => h(topic, copy)));
    }
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
      queueMicrotask(() => node.inboxHandlers.forEach((h) => h(inbox, copy)));
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

  onTopicMessage(handler: (topic: string, payload: Buffer) => void): void {
    this.topicHandlers.push(handler);
  }

  onInboxMessage(handler: (inbox: string, payload: Buffer) => void): void {
    this.inboxHandlers.push(handler);
  }

  onStatus(): void {
    // Always ready: there is no connection to lose.
  }

  holdings(): { patterns: number; inboxes: number } {
    return { patterns: this.patterns.size, inboxes: this.inboxes.size };
  }

  async close(): Promise<void> {
    this.closed = true;
    this.hub.nodes.delete(this);
    this.topicHandlers = [];
    this.inboxHandlers = [];
  }

  private assertOpen(): void {
    if (this.closed) throw new BusError('BUS_CLOSED', `bus of ${this.nodeId} is closed`);
  }
}

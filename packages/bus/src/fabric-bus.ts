import type { MessagePort } from 'node:worker_threads';

import { PatternIndex } from '@fleetwire/protocol';

import { BusError, RefCounts, type Bus, type TopicHandler } from './bus.js';
import { asBuffer, type FromFabric, type ToFabric } from './fabric-messages.js';
import type { Appended, HistoryQuery, HistoryRead, Position } from './history.js';

type Request = ToFabric extends infer R
  ? R extends { id: number }
    ? Omit<R, 'id'>
    : never
  : never;

/**
 * The bus of one worker of a process, over a MessagePort to the process's LocalFabric (see
 * local-fabric.ts): a node of its own for the cluster, whose siblings are reached in-process.
 * Patterns and inboxes are reference-counted here, so the fabric hears only first takers and
 * last leavers.
 */
export class FabricBus implements Bus {
  private isReady: boolean;
  private readonly patterns = new PatternIndex();
  private readonly patternAdded = new Map<string, Promise<void>>();
  private readonly inboxes = new RefCounts();
  private readonly pending = new Map<
    number,
    { resolve: (value: unknown) => void; reject: (error: Error) => void }
  >();
  private nextId = 0;
  private closed = false;
  private readonly topicHandlers: TopicHandler[] = [];
  private readonly inboxHandlers: ((inbox: string, payload: Buffer) => void)[] = [];
  private readonly statusHandlers: ((ready: boolean) => void)[] = [];

  private constructor(
    private readonly port: MessagePort,
    readonly nodeId: string,
    ready: boolean,
  ) {
    this.isReady = ready;
    port.on('message', (message: FromFabric) => this.handle(message));
  }

  /** Resolves once the fabric said whether its driver is ready (its first message). */
  static connect(port: MessagePort, nodeId: string): Promise<FabricBus> {
    return new Promise((resolve) => {
      port.once('message', (first: FromFabric) => {
        resolve(new FabricBus(port, nodeId, first.k === 'status' ? first.ready : true));
      });
    });
  }

  get ready(): boolean {
    return this.isReady && !this.closed;
  }

  async publish(topic: string, payload: Uint8Array): Promise<void> {
    await this.request({ k: 'publish', topic, payload });
  }

  append(batch: readonly Appended[]): Promise<Position[]> {
    return this.request({ k: 'append', batch }) as Promise<Position[]>;
  }

  async readHistory(query: HistoryQuery): Promise<HistoryRead> {
    const read = (await this.request({ k: 'read', query })) as HistoryRead;
    if (!read.ok) return read;
    const entries = read.entries.map((entry) => ({ ...entry, payload: asBuffer(entry.payload) }));
    return { ...read, entries };
  }

  /**
   * The fabric answers once its driver synced, on the same port as the deliveries: when the
   * answer is here, so is everything the driver and the siblings fanned out before.
   */
  async sync(): Promise<void> {
    await this.request({ k: 'sync' });
  }

  addPattern(pattern: string): Promise<void> {
    if (!this.patterns.add(pattern)) return this.patternAdded.get(pattern) ?? Promise.resolve();
    const added = this.request({ k: 'addPattern', pattern }).then(() => undefined);
    this.patternAdded.set(pattern, added);
    return added;
  }

  async removePattern(pattern: string): Promise<void> {
    if (!this.patterns.remove(pattern)) return;
    this.patternAdded.delete(pattern);
    await this.request({ k: 'removePattern', pattern });
  }

  send(inbox: string, payload: Uint8Array): Promise<number> {
    return this.request({ k: 'send', inbox, payload }) as Promise<number>;
  }

  async listen(inbox: string): Promise<void> {
    if (this.inboxes.add(inbox)) await this.request({ k: 'listen', inbox });
  }

  async unlisten(inbox: string): Promise<void> {
    if (this.inboxes.remove(inbox)) await this.request({ k: 'unlisten', inbox });
  }

  onTopicMessage(handler: TopicHandler): void {
    this.topicHandlers.push(handler);
  }

  onInboxMessage(handler: (inbox: string, payload: Buffer) => void): void {
    this.inboxHandlers.push(handler);
  }

  onStatus(handler: (ready: boolean) => void): void {
    this.statusHandlers.push(handler);
  }

  holdings(): { patterns: number; inboxes: number } {
    return { patterns: this.patterns.size, inboxes: this.inboxes.size };
  }

  /** Lets go of everything this worker held at the fabric, then closes the port. */
  async close(): Promise<void> {
    if (this.closed) return;
    await this.request({ k: 'close' }).catch(() => undefined);
    this.closed = true;
    this.port.close();
    for (const { reject } of this.pending.values()) {
      reject(new BusError('BUS_CLOSED', `bus of ${this.nodeId} is closed`));
    }
    this.pending.clear();
  }

  private request(message: Request): Promise<unknown> {
    if (this.closed) {
      return Promise.reject(new BusError('BUS_CLOSED', `bus of ${this.nodeId} is closed`));
    }
    this.nextId += 1;
    const id = this.nextId;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.port.postMessage({ ...message, id } as ToFabric);
    });
  }

  private handle(message: FromFabric): void {
    switch (message.k) {
      case 'done':
      case 'failed': {
        const waiter = this.pending.get(message.id);
        this.pending.delete(message.id);
        if (message.k === 'done') waiter?.resolve(message.value);
        else {
          const code = message.code === 'BUS_CLOSED' ? 'BUS_CLOSED' : 'BUS_UNAVAILABLE';
          waiter?.reject(new BusError(code, message.message));
        }
        return;
      }
      case 'topic': {
        // A pattern let go of while the message was on its way: as a driver, deliver only held.
        if (this.patterns.match(message.topic).length === 0) return;
        const payload = asBuffer(message.payload);
        for (const handler of this.topicHandlers) handler(message.topic, payload, message.position);
        return;
      }
      case 'inbox': {
        if (!this.inboxes.has(message.inbox)) return;
        const payload = asBuffer(message.payload);
        for (const handler of this.inboxHandlers) handler(message.inbox, payload);
        return;
      }
      case 'status':
        if (message.ready === this.isReady) return;
        this.isReady = message.ready;
        for (const handler of this.statusHandlers) handler(message.ready);
        return;
    }
  }
}

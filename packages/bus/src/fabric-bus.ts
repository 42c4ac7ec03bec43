import type { MessagePort } from 'node:worker_threads';

import { PatternIndex } from '@fleetwire/protocol';

import { BusListeners } from './bus-listeners.js';
import { BusError, RefCounts, type Bus } from './bus.js';
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
export class FabricBus extends BusListeners implements Bus {
  private isReady: boolean;
  private readonly patterns = new PatternIndex();
  private readonly patternAdded = new Map<string, Promise<void>>();
  private readonly inboxes = new RefCounts();
  private readonly pending = new Map<
    number,
    { resolve: (value: unknown) => void; reject: (error: Error) => void }
  >();
  private nextId = 0;
  /** Set by close(): from then on requests are refused here, none reaches the fabric. */
  private closing = false;
  /** The port is closed, by close() or by the fabric (the supervisor closed it). */
  private closed = false;
  private shut: Promise<void> | undefined;

  private constructor(
    private readonly port: MessagePort,
    readonly nodeId: string,
    ready: boolean,
  ) {
    super();
    this.isReady = ready;
    port.on('message', (message: FromFabric) => this.handle(message));
    port.once('close', () => this.portClosed());
  }

  /** Resolves once the fabric said whether its driver is ready (its first message). */
  static connect(port: MessagePort, nodeId: string): Promise<FabricBus> {
    return new Promise((resolve, reject) => {
      const gone = (): void => reject(new BusError('BUS_CLOSED', `fabric of ${nodeId} is closed`));
      port.once('close', gone);
      port.once('message', (first: FromFabric) => {
        port.off('close', gone);
        resolve(new FabricBus(port, nodeId, first.k === 'status' ? first.ready : true));
      });
    });
  }

  get ready(): boolean {
    return this.isReady && !this.closing;
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

  /**
   * Resolves once the fabric holds the pattern, also for a holder that came second. A refused
   * request is forgotten (the holder still counts): the next holder asks again instead of
   * awaiting the same refusal, and the fabric takes one more driver reference for it.
   */
  addPattern(pattern: string): Promise<void> {
    this.patterns.add(pattern);
    const known = this.patternAdded.get(pattern);
    if (known) return known;
    const added = this.request({ k: 'addPattern', pattern }).then(() => undefined);
    this.patternAdded.set(pattern, added);
    added.catch(() => {
      if (this.patternAdded.get(pattern) === added) this.patternAdded.delete(pattern);
    });
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

  holdings(): { patterns: number; inboxes: number } {
    return { patterns: this.patterns.size, inboxes: this.inboxes.size };
  }

  /**
   * Lets go of everything this worker held at the fabric, then closes the port. From the call
   * on, requests are refused at once (BUS_CLOSED); those still unanswered when the port closes
   * are rejected the same way. Resolves also when the fabric closed first.
   */
  close(): Promise<void> {
    this.shut ??= this.shutDown();
    return this.shut;
  }

  private async shutDown(): Promise<void> {
    this.closing = true;
    if (!this.closed) await this.post({ k: 'close' }).catch(() => undefined);
    this.port.close();
    this.portClosed();
  }

  private request(message: Request): Promise<unknown> {
    if (this.closing) {
      return Promise.reject(new BusError('BUS_CLOSED', `bus of ${this.nodeId} is closed`));
    }
    return this.post(message);
  }

  private post(message: Request): Promise<unknown> {
    this.nextId += 1;
    const id = this.nextId;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.port.postMessage({ ...message, id } as ToFabric);
    });
  }

  /**
   * The port is closed (by close(), or by the fabric when the supervisor ends the process): no
   * answer can come any more, so every waiter is rejected now instead of waiting forever.
   */
  private portClosed(): void {
    if (this.closed) return;
    this.closed = true;
    const wasReady = this.ready;
    this.closing = true;
    for (const { reject } of this.pending.values()) {
      reject(new BusError('BUS_CLOSED', `bus of ${this.nodeId} is closed`));
    }
    this.pending.clear();
    // Closed from the fabric's side: this worker's users learn it as for any driver.
    if (wasReady) this.announceStatus(false);
  }

  private handle(message: FromFabric): void {
    if (this.closed) return;
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
        this.deliverTopic(message.topic, payload, message.position);
        return;
      }
      case 'inbox': {
        if (!this.inboxes.has(message.inbox)) return;
        const payload = asBuffer(message.payload);
        this.deliverInbox(message.inbox, payload);
        return;
      }
      case 'status':
        if (message.ready === this.isReady) return;
        this.isReady = message.ready;
        this.announceStatus(message.ready);
        return;
    }
  }
}

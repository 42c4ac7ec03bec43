import type { Position } from './history.js';
import type { TopicHandler } from './bus.js';

type InboxHandler = (inbox: string, payload: Buffer) => void;
type StatusHandler = (ready: boolean) => void;

/**
 * The listening half every bus driver shares: what its users registered (`onTopicMessage`,
 * `onInboxMessage`, `onStatus`), called in registration order when the driver delivers.
 */
export abstract class BusListeners {
  private topicHandlers: TopicHandler[] = [];
  private inboxHandlers: InboxHandler[] = [];
  private readonly statusHandlers: StatusHandler[] = [];

  onTopicMessage(handler: TopicHandler): void {
    this.topicHandlers.push(handler);
  }

  onInboxMessage(handler: InboxHandler): void {
    this.inboxHandlers.push(handler);
  }

  onStatus(handler: StatusHandler): void {
    this.statusHandlers.push(handler);
  }

  protected deliverTopic(topic: string, payload: Buffer, position?: Position): void {
    for (const handler of this.topicHandlers) handler(topic, payload, position);
  }

  protected deliverInbox(inbox: string, payload: Buffer): void {
    for (const handler of this.inboxHandlers) handler(inbox, payload);
  }

  protected announceStatus(ready: boolean): void {
    for (const handler of this.statusHandlers) handler(ready);
  }

  /** A closed bus delivers nothing more. */
  protected dropListeners(): void {
    this.topicHandlers = [];
    this.inboxHandlers = [];
  }
}

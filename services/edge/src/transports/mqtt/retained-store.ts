export interface RetainedMessage {
  topic: string;
  /** The PUBLISH payload as the publisher sent it (JSON). */
  payload: Buffer;
}

/**
 * Retained messages (MQTT 3.1.1 §3.3.1.3, 5.0 §3.3.1.3) kept by this node: the last retained
 * PUBLISH per tenant and topic, at most `max` in all. When full, a new one pushes out the oldest
 * of its own tenant while that tenant holds at least an even share, else the oldest of the
 * tenant holding the most: one tenant's publishers cannot push out another tenant's share.
 * A new subscription gets the ones its filter matches. Node-local: a subscriber on another node
 * does not see them.
 */
export class RetainedStore {
  /** tenant → topic → message, in insertion order. */
  private readonly byTenant = new Map<string, Map<string, RetainedMessage>>();
  private count = 0;

  constructor(private readonly max: number) {}

  get size(): number {
    return this.count;
  }

  get enabled(): boolean {
    return this.max > 0;
  }

  /** Keeps `payload` as the topic's retained message; an empty payload removes it. */
  set(tenant: string, topic: string, payload: Buffer): void {
    if (!this.enabled) return;
    let topics = this.byTenant.get(tenant);
    if (topics?.delete(topic)) this.count -= 1;
    if (payload.length === 0) {
      if (topics?.size === 0) this.byTenant.delete(tenant);
      return;
    }
    if (!topics) {
      topics = new Map();
      this.byTenant.set(tenant, topics);
    }
    topics.set(topic, { topic, payload });
    this.count += 1;
    if (this.count > this.max) this.evictOldest(tenant);
  }

  /** One message out of the fullest tenant, or of `own` while it holds an even share or more. */
  private evictOldest(own: string): void {
    let victim = own;
    let from = this.byTenant.get(own) as Map<string, RetainedMessage>;
    if (from.size * this.byTenant.size < this.count) {
      for (const [tenant, topics] of this.byTenant) {
        if (topics.size > from.size) [victim, from] = [tenant, topics];
      }
    }
    // Maps keep insertion order (a replaced topic was deleted first): the first is the oldest.
    from.delete(from.keys().next().value as string);
    this.count -= 1;
    if (from.size === 0) this.byTenant.delete(victim);
  }

  /** How many `tenant` holds. */
  sizeOf(tenant: string): number {
    return this.byTenant.get(tenant)?.size ?? 0;
  }

  /** Whether `message` is still the topic's retained message (not replaced or removed since). */
  isCurrent(tenant: string, message: RetainedMessage): boolean {
    return this.byTenant.get(tenant)?.get(message.topic) === message;
  }

  /** The retained messages of `tenant`, oldest first. */
  of(tenant: string): Iterable<RetainedMessage> {
    return this.byTenant.get(tenant)?.values() ?? [];
  }
}

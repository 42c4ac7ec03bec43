import type { DeliveryMessage, GapMessage } from '@fleetwire/protocol';

/** MQTT-style match of a tenant-relative topic against a pattern (`+` one level, `#` the rest). */
export function topicMatches(pattern: string, topic: string): boolean {
  const want = pattern.split('/');
  const have = topic.split('/');
  for (let i = 0; i < want.length; i++) {
    if (want[i] === '#') return true;
    if (i >= have.length || (want[i] !== '+' && want[i] !== have[i])) return false;
  }
  return want.length === have.length;
}

/**
 * The last position delivered per subscription, so a reconnect resumes each one where it was.
 * A message tagged with `sub` (recovered, or held back while recovering) moves that subscription
 * only; an untagged (live) one moves every live subscription it matches. A subscription waiting
 * for its subscribe to be acked is not moved by live messages: they may belong to another,
 * overlapping subscription that is further along.
 */
export class Positions {
  private readonly last = new Map<string, string>();
  private readonly settling = new Set<string>();

  /** The `since` of a resuming subscribe: patterns that have a position. */
  since(patterns: Iterable<string>): Record<string, string> | undefined {
    const since: Record<string, string> = {};
    let any = false;
    for (const pattern of patterns) {
      const pos = this.last.get(pattern);
      if (pos === undefined) continue;
      since[pattern] = pos;
      any = true;
    }
    return any ? since : undefined;
  }

  settlingFrom(patterns: Iterable<string>): void {
    for (const p of patterns) this.settling.add(p);
  }

  settled(patterns: Iterable<string>): void {
    for (const p of patterns) this.settling.delete(p);
  }

  forget(pattern: string): void {
    this.last.delete(pattern);
    this.settling.delete(pattern);
  }

  get(pattern: string): string | undefined {
    return this.last.get(pattern);
  }

  seen(message: DeliveryMessage | GapMessage, subscribed: Iterable<string>): void {
    if (message.pos === undefined) return;
    if (message.sub !== undefined) {
      this.last.set(message.sub, message.pos);
      return;
    }
    for (const pattern of subscribed) {
      if (!this.settling.has(pattern) && topicMatches(pattern, message.topic)) {
        this.last.set(pattern, message.pos);
      }
    }
  }
}

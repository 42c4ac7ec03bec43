import type { Retention } from '@fleetwire/bus';
import { topicMatches } from '@fleetwire/protocol';

export interface RetentionRule {
  /** Tenant-relative pattern. */
  pattern: string;
  maxAgeMs: number;
  maxCount: number;
}

/** History on the edge (absent: off). */
export interface HistorySettings {
  /** For topics no rule matches. */
  defaultRetention: { maxAgeMs: number; maxCount: number };
  /** The first rule whose pattern matches a topic sets its retention. */
  rules: RetentionRule[];
  /** Missed messages one subscription may recover at once; more: `too_many`. */
  maxRecover: number;
  /** Topics of a tenant active since the position one recovery may look at; more: `too_many`. */
  maxTopics: number;
  /** Messages (and bytes) waiting for the bus while it is away; past either, drops and a gap. */
  outboxMax: number;
  outboxMaxBytes: number;
}

/** Which retention a topic gets, and which age a subscription's recovery can count on. */
export class HistoryPolicy {
  private readonly horizonMs: number;
  private readonly shortestMs: number;

  constructor(readonly settings: HistorySettings) {
    const ages = [settings.defaultRetention.maxAgeMs, ...settings.rules.map((r) => r.maxAgeMs)];
    this.horizonMs = Math.max(...ages);
    this.shortestMs = Math.min(...ages);
  }

  /** `topic`: tenant-relative. */
  retentionOf(topic: string): Retention {
    const rule = this.settings.rules.find((r) => topicMatches(r.pattern, topic));
    const { maxAgeMs, maxCount } = rule ?? this.settings.defaultRetention;
    return { maxAgeMs, maxCount, horizonMs: this.horizonMs };
  }

  /**
   * The age history of a pattern's topics is kept for: the topic's own for a concrete topic; for
   * a wildcard, the shortest of all (a pattern can match topics of several rules).
   */
  maxAgeOf(pattern: string): number {
    const concrete = !pattern.split('/').some((level) => level === '+' || level === '#');
    return concrete ? this.retentionOf(pattern).maxAgeMs : this.shortestMs;
  }
}

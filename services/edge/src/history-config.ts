import { envVar } from '@fleetwire/config';
import { patternProblem } from '@fleetwire/protocol';
import { z } from 'zod';

import type { HistorySettings, RetentionRule } from './core/history-policy.js';

/** `PATTERN=AGE_SEC:COUNT`, comma-separated: `devices/+/status=3600:1,devices/+/events/#=900:500`. */
const Rules = z
  .string()
  .transform((text, ctx) => {
    const rules: RetentionRule[] = [];
    for (const item of text
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean)) {
      const cut = item.lastIndexOf('=');
      const pattern = item.slice(0, cut);
      const bounds = /^(\d{1,6}):(\d{1,6})$/.exec(item.slice(cut + 1));
      const problem = cut > 0 ? patternProblem(pattern) : 'missing PATTERN=';
      if (problem || !bounds) {
        ctx.addIssue({
          code: 'custom',
          message: `${item}: expected PATTERN=AGE_SEC:COUNT (${problem ?? 'bad bounds'})`,
        });
        return z.NEVER;
      }
      const [ageSec, count] = [Number(bounds[1]), Number(bounds[2])];
      if (ageSec < 1 || ageSec > 86_400 || count < 1 || count > 100_000) {
        ctx.addIssue({ code: 'custom', message: `${item}: age 1–86400 s, count 1–100000` });
        return z.NEVER;
      }
      rules.push({ pattern, maxAgeMs: ageSec * 1000, maxCount: count });
    }
    return rules;
  })
  .optional();

/** The history variables (services/edge/README.md lists them). */
export const HISTORY_ENV = {
  FLEETWIRE_HISTORY_ENABLED: envVar.bool(true),
  FLEETWIRE_HISTORY_MAX_AGE_SEC: envVar.int(300, { min: 1, max: 86_400 }),
  FLEETWIRE_HISTORY_MAX_COUNT: envVar.int(1000, { min: 1, max: 100_000 }),
  FLEETWIRE_HISTORY_RULES: Rules,
  FLEETWIRE_HISTORY_MAX_RECOVER: envVar.int(10_000, { min: 1, max: 100_000 }),
  FLEETWIRE_HISTORY_MAX_TOPICS: envVar.int(10_000, { min: 1, max: 100_000 }),
  FLEETWIRE_BUS_OUTBOX_MAX: envVar.int(10_000, { min: 1, max: 1_000_000 }),
  FLEETWIRE_BUS_OUTBOX_MAX_BYTES: envVar.int(16 * 1024 * 1024, {
    min: 64 * 1024,
    max: 1024 * 1024 * 1024,
  }),
};

type HistoryEnv = z.output<z.ZodObject<typeof HISTORY_ENV>>;

export function historySettings(e: HistoryEnv): HistorySettings | undefined {
  if (!e.FLEETWIRE_HISTORY_ENABLED) return undefined;
  return {
    defaultRetention: {
      maxAgeMs: e.FLEETWIRE_HISTORY_MAX_AGE_SEC * 1000,
      maxCount: e.FLEETWIRE_HISTORY_MAX_COUNT,
    },
    rules: e.FLEETWIRE_HISTORY_RULES ?? [],
    maxRecover: e.FLEETWIRE_HISTORY_MAX_RECOVER,
    maxTopics: e.FLEETWIRE_HISTORY_MAX_TOPICS,
    outboxMax: e.FLEETWIRE_BUS_OUTBOX_MAX,
    outboxMaxBytes: e.FLEETWIRE_BUS_OUTBOX_MAX_BYTES,
  };
}

import type { z } from 'zod';

/**
 * The first problem zod found, as `path: message` (or `whole: message` / `message` when the value
 * itself is the problem): what every refusal of a validated input tells the sender.
 */
export function firstIssue(error: z.ZodError, whole?: string): string {
  const issue = error.issues[0];
  const path = issue && issue.path.length > 0 ? issue.path.join('.') : whole;
  const message = issue?.message ?? 'invalid';
  return path === undefined ? message : `${path}: ${message}`;
}

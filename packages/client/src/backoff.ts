export interface BackoffOptions {
  /** First retry's ceiling, ms. */
  initialDelayMs: number;
  /** Ceiling of any retry, ms. */
  maxDelayMs: number;
  factor: number;
}

export const DEFAULT_BACKOFF: BackoffOptions = {
  initialDelayMs: 500,
  maxDelayMs: 30_000,
  factor: 2,
};

/**
 * Full jitter: a uniform draw between 0 and the capped exponential, so a fleet that lost its
 * node at the same instant does not come back in lockstep. The exponent is capped so the
 * arithmetic never overflows however long the outage.
 */
export function backoffDelay(
  attempt: number,
  options: BackoffOptions,
  random: () => number,
): number {
  const exponent = Math.min(attempt, 30);
  const ceiling = Math.min(options.maxDelayMs, options.initialDelayMs * options.factor ** exponent);
  return Math.floor(random() * ceiling);
}

import { setTimeout as delay } from 'node:timers/promises';

import { TestkitError } from '../errors.js';

export interface WaitOptions {
  /** What is awaited, for the error message. */
  what: string;
  timeoutMs: number;
  intervalMs?: number;
  /** Called between attempts; a returned message aborts the wait (e.g. "process exited"). */
  abort?: () => string | undefined;
}

/**
 * Polls `probe` until it resolves truthy. For readiness of external processes only, which
 * announce nothing we could listen to; tests wait on events, never on this.
 */
export async function waitUntil(
  probe: () => Promise<boolean>,
  { what, timeoutMs, intervalMs = 100, abort }: WaitOptions,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    const reason = abort?.();
    if (reason) throw new TestkitError('TESTKIT_SERVICE_EXITED', `${what}: ${reason}`);
    try {
      if (await probe()) return;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline) {
      throw new TestkitError(
        'TESTKIT_SERVICE_TIMEOUT',
        `${what}: not ready after ${timeoutMs} ms`,
        {
          cause: lastError,
        },
      );
    }
    await delay(intervalMs);
  }
}

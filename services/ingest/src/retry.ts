import { setTimeout as delay } from 'node:timers/promises';

// The one full-jitter backoff of the repository lives in the SDK: it is pure (no Node or browser
// API), so the SDK stays browser-safe and the worker reuses it instead of a second copy. The
// protocol package is the wire format, and a package of its own would hold ten lines.
import { backoffDelay } from '@fleetwire/client';

/** Retry backoff: full jitter on base·2^attempt, capped. */
export interface RetryDelays {
  retryBaseMs?: number;
  retryMaxMs?: number;
}

/**
 * Waits before retry `attempt` (0, 1, …): a jittered 100 ms·2ⁿ up to 5 s by default. Resolves
 * false at once when `signal` aborts (the caller gives up), true after the wait.
 */
export async function backoff(
  attempt: number,
  delays: RetryDelays,
  signal: AbortSignal,
): Promise<boolean> {
  const wait = backoffDelay(
    attempt,
    {
      initialDelayMs: delays.retryBaseMs ?? 100,
      maxDelayMs: delays.retryMaxMs ?? 5_000,
      factor: 2,
    },
    Math.random,
  );
  try {
    await delay(wait, undefined, { signal });
    return true;
  } catch {
    return false;
  }
}

/**
 * `work`, or a rejection with `stopped()` as soon as `signal` aborts (the work may still finish
 * or fail later; nobody waits for it any more).
 */
export function unlessAborted<T>(
  work: Promise<T>,
  signal: AbortSignal,
  stopped: () => Error,
): Promise<T> {
  if (signal.aborted) {
    work.catch(() => undefined);
    return Promise.reject(stopped());
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => {
      work.catch(() => undefined);
      reject(stopped());
    };
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}

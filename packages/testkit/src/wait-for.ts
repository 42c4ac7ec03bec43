/**
 * Polls `check` until it holds and answers how long that took; fails naming `what` past the
 * deadline. For state that announces nothing a test could listen to (a health endpoint, a
 * metric, a row count): a wait for state with a deadline, never a fixed sleep.
 */
export async function waitFor(
  what: string,
  check: () => Promise<boolean> | boolean,
  timeoutMs = 30_000,
): Promise<number> {
  const start = performance.now();
  while (!(await check())) {
    if (performance.now() - start > timeoutMs) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return performance.now() - start;
}

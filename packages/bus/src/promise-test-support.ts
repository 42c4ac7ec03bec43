/** Whether a promise has settled once the replies and tasks queued now have been handled. */
export async function settledSoon(promise: Promise<unknown>): Promise<boolean> {
  let done = false;
  promise.then(
    () => (done = true),
    () => (done = true),
  );
  await new Promise((resolve) => setImmediate(resolve));
  return done;
}

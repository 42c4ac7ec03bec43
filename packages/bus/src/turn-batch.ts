/** Items per run at most: a bound on one script's arguments and on how long it holds Redis. */
const MAX_ITEMS = 500;

interface Pending<Item, Result> {
  items: Item[];
  waiters: { resolve: (result: Result) => void; reject: (error: unknown) => void }[];
}

/**
 * Collects the calls made during one event-loop turn and runs them, at its end, as one operation
 * per key (at most MAX_ITEMS items each): a connect storm's presence records of one tenant become
 * one script run instead of one per device. Each caller gets its own item's result, or the run's
 * error. Items of one key keep their order within a run.
 */
export class TurnBatch<Item, Result> {
  private pending = new Map<string, Pending<Item, Result>>();
  private scheduled: NodeJS.Immediate | undefined;

  constructor(private readonly run: (key: string, items: Item[]) => Promise<Result[]>) {}

  add(key: string, item: Item): Promise<Result> {
    return new Promise((resolve, reject) => {
      let batch = this.pending.get(key);
      if (!batch) {
        batch = { items: [], waiters: [] };
        this.pending.set(key, batch);
      }
      batch.items.push(item);
      batch.waiters.push({ resolve, reject });
      this.scheduled ??= setImmediate(() => this.flush());
    });
  }

  /** Runs what is collected now (before the connection closes). */
  flush(): void {
    clearImmediate(this.scheduled);
    this.scheduled = undefined;
    const batches = this.pending;
    this.pending = new Map();
    for (const [key, { items, waiters }] of batches) {
      for (let from = 0; from < items.length; from += MAX_ITEMS) {
        const slice = waiters.slice(from, from + MAX_ITEMS);
        new Promise<Result[]>((resolve) =>
          resolve(this.run(key, items.slice(from, from + MAX_ITEMS))),
        ).then(
          (results) => slice.forEach((waiter, i) => waiter.resolve(results[i] as Result)),
          (error: unknown) => slice.forEach((waiter) => waiter.reject(error)),
        );
      }
    }
  }
}

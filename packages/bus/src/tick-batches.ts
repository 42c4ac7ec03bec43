const DONE = Promise.resolve();

interface Waiting<Item, Answer> {
  item: Item;
  resolve: (answer: Answer) => void;
  reject: (error: unknown) => void;
}

/**
 * Requests made during one event-loop turn, grouped by key and sent at its end as one call per
 * key (at most `maxItems` items a call); each caller gets its own item's answer. A connect storm
 * then costs Redis one script run per tenant and turn instead of one per device, and the client
 * one command object (ioredis: a few KB of garbage and a socket-timeout timer each).
 */
export class TickBatches<Item, Answer> {
  private readonly open = new Map<string, Waiting<Item, Answer>[]>();
  private scheduled: NodeJS.Immediate | undefined;

  constructor(
    /** One call for a key's items; answers them in order, one each. */
    private readonly send: (key: string, items: Item[]) => Promise<readonly Answer[]>,
    private readonly maxItems: number,
  ) {}

  add(key: string, item: Item): Promise<Answer> {
    return new Promise<Answer>((resolve, reject) => {
      let waiting = this.open.get(key);
      if (!waiting) {
        waiting = [];
        this.open.set(key, waiting);
      }
      waiting.push({ item, resolve, reject });
      this.scheduled ??= setImmediate(() => void this.flush());
    });
  }

  /**
   * Sends what waits now; resolves once those calls are answered (never rejects: each caller
   * hears its own outcome). A store that closes waits for it before it quits.
   */
  flush(): Promise<void> {
    if (this.open.size === 0) return DONE;
    clearImmediate(this.scheduled);
    this.scheduled = undefined;
    const batches = [...this.open];
    this.open.clear();
    const calls: Promise<unknown>[] = [];
    for (const [key, waiting] of batches) {
      for (let i = 0; i < waiting.length; i += this.maxItems) {
        calls.push(this.call(key, waiting.slice(i, i + this.maxItems)));
      }
    }
    return Promise.allSettled(calls).then(() => undefined);
  }

  private call(key: string, waiting: Waiting<Item, Answer>[]): Promise<unknown> {
    let sent: Promise<readonly Answer[]>;
    try {
      sent = this.send(
        key,
        waiting.map((w) => w.item),
      );
    } catch (error) {
      sent = Promise.reject(error);
    }
    return sent.then(
      (answers) => {
        if (!Array.isArray(answers) || answers.length !== waiting.length) {
          const count = Array.isArray(answers) ? answers.length : 'no';
          const error = new Error(`${count} answers for ${waiting.length} requests`);
          for (const w of waiting) w.reject(error);
          return;
        }
        waiting.forEach((w, i) => w.resolve(answers[i] as Answer));
      },
      (error: unknown) => {
        for (const w of waiting) w.reject(error);
      },
    );
  }
}

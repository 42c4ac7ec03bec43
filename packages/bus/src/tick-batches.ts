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
      this.scheduled ??= setImmediate(() => this.flush());
    });
  }

  /** Sends what waits now (a store that closes sends it before it quits). */
  flush(): void {
    if (this.open.size === 0) return;
    clearImmediate(this.scheduled);
    this.scheduled = undefined;
    const batches = [...this.open];
    this.open.clear();
    for (const [key, waiting] of batches) {
      for (let i = 0; i < waiting.length; i += this.maxItems) {
        this.call(key, waiting.slice(i, i + this.maxItems));
      }
    }
  }

  private call(key: string, waiting: Waiting<Item, Answer>[]): void {
    let sent: Promise<readonly Answer[]>;
    try {
      sent = this.send(
        key,
        waiting.map((w) => w.item),
      );
    } catch (error) {
      sent = Promise.reject(error);
    }
    sent.then(
      (answers) => {
        if (answers.length !== waiting.length) {
          const error = new Error(`${answers.length} answers for ${waiting.length} requests`);
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

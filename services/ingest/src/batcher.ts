export interface BatcherOptions {
  /** A batch never holds more items than this; a bigger backlog is written in several batches. */
  maxItems: number;
  /** How long the first buffered item may wait for others before its batch is written anyway. */
  maxWaitMs: number;
}

interface Submission {
  remaining: number;
  resolve: () => void;
  reject: (error: unknown) => void;
}

interface Entry<T> {
  item: T;
  submission: Submission;
}

export class BatcherClosedError extends Error {
  override readonly name = 'BatcherClosedError';
  readonly code = 'INGEST_BATCHER_CLOSED';
}

/**
 * Gathers items from several producers (one per Kafka partition batch being handled) into
 * batches for one write each. A batch is written when it is full, when its oldest item has waited
 * `maxWaitMs`, or as soon as every producer that announced itself (`begin`) has submitted: the
 * consumer fetches nothing more until they return, so waiting longer would only add latency.
 * `submit` resolves once all of its items are written; writes run one at a time, in order.
 */
export class Batcher<T> {
  private buffer: Entry<T>[] = [];
  private open = 0;
  private timer: NodeJS.Timeout | undefined;
  private idleCheck: NodeJS.Immediate | undefined;
  private writing = false;
  private closed = false;

  constructor(
    private readonly write: (items: T[]) => Promise<void>,
    private readonly options: BatcherOptions,
  ) {}

  /** Announces a coming `submit` (or `abandon`), so an idle flush waits for it. */
  begin(): void {
    this.open += 1;
  }

  /** Gives up an announced submit (its producer failed before submitting). */
  abandon(): void {
    this.open = Math.max(0, this.open - 1);
    this.scheduleIdleFlush();
  }

  /** Resolves once every item is written; rejects if their write failed for good. */
  submit(items: readonly T[]): Promise<void> {
    this.open = Math.max(0, this.open - 1);
    if (this.closed) return Promise.reject(new BatcherClosedError('the batcher is closed'));
    if (items.length === 0) {
      this.scheduleIdleFlush();
      return Promise.resolve();
    }
    const done = new Promise<void>((resolve, reject) => {
      const submission: Submission = { remaining: items.length, resolve, reject };
      for (const item of items) this.buffer.push({ item, submission });
    });
    if (this.buffer.length >= this.options.maxItems) {
      void this.drain();
    } else {
      this.timer ??= setTimeout(() => {
        this.timer = undefined;
        void this.drain();
      }, this.options.maxWaitMs);
      this.scheduleIdleFlush();
    }
    return done;
  }

  /** Items waiting to be written. */
  get pending(): number {
    return this.buffer.length;
  }

  /** Fails what is still buffered and refuses new items (used when a shutdown times out). */
  close(): void {
    this.closed = true;
    this.clearTimers();
    const error = new BatcherClosedError('the batcher closed before the items were written');
    for (const { submission } of this.buffer.splice(0)) submission.reject(error);
  }

  private scheduleIdleFlush(): void {
    // On the next turn, so producers started in the same turn have announced themselves.
    this.idleCheck ??= setImmediate(() => {
      this.idleCheck = undefined;
      if (this.open === 0 && this.buffer.length > 0) void this.drain();
    });
  }

  private clearTimers(): void {
    if (this.timer) clearTimeout(this.timer);
    if (this.idleCheck) clearImmediate(this.idleCheck);
    this.timer = undefined;
    this.idleCheck = undefined;
  }

  private async drain(): Promise<void> {
    if (this.writing) return;
    this.writing = true;
    this.clearTimers();
    try {
      while (this.buffer.length > 0) {
        const chunk = this.buffer.splice(0, this.options.maxItems);
        try {
          await this.write(chunk.map((e) => e.item));
        } catch (error) {
          const failed = new Set(chunk.map((e) => e.submission));
          // The rest of a failed submission is not worth writing: its producer retries it all.
          this.buffer = this.buffer.filter((e) => !failed.has(e.submission));
          for (const submission of failed) submission.reject(error);
          continue;
        }
        for (const { submission } of chunk) {
          submission.remaining -= 1;
          if (submission.remaining === 0) submission.resolve();
        }
        // A partial batch left over waits for more items (or its timer), unless nobody is coming.
        if (this.buffer.length < this.options.maxItems && this.open > 0) break;
      }
    } finally {
      this.writing = false;
    }
    if (this.buffer.length > 0) {
      this.timer ??= setTimeout(() => {
        this.timer = undefined;
        void this.drain();
      }, this.options.maxWaitMs);
      this.scheduleIdleFlush();
    }
  }
}

/**
 * The requests a driver sent and has not heard back about. Its close() waits for them before
 * QUIT: ioredis writes QUIT at once, ahead of commands still queued (auto-pipelined in this
 * turn, or waiting for a cluster node's connection), which would then fail unsent.
 */
export class InFlight {
  private readonly pending = new Set<Promise<unknown>>();

  track<T>(request: Promise<T>): Promise<T> {
    this.pending.add(request);
    const forget = (): void => void this.pending.delete(request);
    request.then(forget, forget);
    return request;
  }

  /** Resolves once every request tracked so far is answered (or failed). */
  async settled(): Promise<void> {
    await Promise.allSettled([...this.pending]);
  }
}

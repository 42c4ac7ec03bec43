import { BusError } from './bus.js';

/**
 * The round trips behind `Bus.sync()` of the Redis drivers: a numbered marker published on a
 * channel this node receives, and a wait until it comes back (`arrived`), or a timeout.
 */
export class SyncMarkers {
  private readonly waiters = new Map<string, () => void>();
  private count = 0;

  /** Publishes a new marker with `publish(token)`; resolves when it came back. */
  async roundTrip(publish: (token: string) => Promise<unknown>, timeoutMs: number): Promise<void> {
    this.count += 1;
    const token = String(this.count);
    const back = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters.delete(token);
        reject(new BusError('BUS_UNAVAILABLE', 'Redis did not return the sync marker'));
      }, timeoutMs);
      this.waiters.set(token, () => {
        clearTimeout(timer);
        resolve();
      });
    });
    try {
      await publish(token);
    } catch (cause) {
      this.arrived(token); // clears the timer; nobody waits on `back` any more
      throw new BusError('BUS_UNAVAILABLE', 'Redis unavailable: no sync', { cause });
    }
    await back;
  }

  /** A marker came back (one of another node's, or an expired one: ignored). */
  arrived(token: string): void {
    this.waiters.get(token)?.();
    this.waiters.delete(token);
  }
}

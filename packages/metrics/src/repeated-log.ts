/**
 * Logs a repeated failure once per interval with how many times it happened, instead of once
 * per occurrence: a broker that refuses every request, or a peer that sends garbage, must not
 * flood the logs. The first occurrence is logged at once (count 1); later ones within the interval
 * are counted and logged together when it ends, with the last occurrence's details.
 */
export class RepeatedLog<Detail> {
  private pending = 0;
  private last: Detail | undefined;
  private lastLoggedAt = -Infinity;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly write: (count: number, detail: Detail) => void,
    private readonly intervalMs: number,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** One more occurrence. */
  hit(detail: Detail): void {
    this.pending += 1;
    this.last = detail;
    if (this.now() - this.lastLoggedAt >= this.intervalMs) {
      this.flush();
      return;
    }
    if (!this.timer) {
      const wait = Math.max(0, this.lastLoggedAt + this.intervalMs - this.now());
      this.timer = setTimeout(() => this.flush(), wait);
      this.timer.unref();
    }
  }

  /** Logs what is counted now (also on shutdown, so the last count is not lost). */
  flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.pending === 0) return;
    const [count, detail] = [this.pending, this.last as Detail];
    this.pending = 0;
    this.lastLoggedAt = this.now();
    this.write(count, detail);
  }
}

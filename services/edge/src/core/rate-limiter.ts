/** The monotonic clock, one function for every bucket (a bound copy per bucket costs 48 B). */
const monotonicNow = (): number => performance.now();

/** Token bucket: `ratePerSec` tokens a second, at most `burst` saved up. */
export class TokenBucket {
  private tokens: number;
  private last: number;

  constructor(
    readonly ratePerSec: number,
    readonly burst: number,
    private readonly now: () => number = monotonicNow,
  ) {
    this.tokens = burst;
    this.last = this.now();
  }

  /** Saved up to the burst: the bucket is as a new one. */
  isFull(): boolean {
    const saved = this.tokens + ((this.now() - this.last) / 1000) * this.ratePerSec;
    return saved >= this.burst;
  }

  /** Takes `cost` tokens (one message, or a chunk's bytes); false when there are not enough. */
  take(cost = 1): boolean {
    const now = this.now();
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) / 1000) * this.ratePerSec);
    this.last = now;
    if (this.tokens < cost) return false;
    this.tokens -= cost;
    return true;
  }
}

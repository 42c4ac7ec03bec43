/**
 * An application-level liveness check: a ping every interval, and a connection from which
 * nothing came back for a whole interval is declared dead, even while TCP still says it is up.
 */
export class Heartbeat {
  private timer: ReturnType<typeof setInterval> | undefined;
  private answerDue: number | undefined;

  constructor(
    private readonly intervalMs: number,
    private readonly ping: () => void,
    private readonly dead: () => void,
  ) {}

  start(): void {
    this.stop();
    this.timer = setInterval(() => {
      if (this.answerDue !== undefined && Date.now() > this.answerDue) {
        this.dead();
        return;
      }
      this.answerDue ??= Date.now() + this.intervalMs;
      this.ping();
    }, this.intervalMs);
  }

  /** Anything arrived: the connection is alive. */
  heard(): void {
    this.answerDue = undefined;
  }

  stop(): void {
    clearInterval(this.timer);
    this.answerDue = undefined;
  }
}

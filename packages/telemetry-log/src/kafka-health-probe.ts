import type { Admin, Kafka } from 'kafkajs';

export interface KafkaHealthProbeOptions {
  kafka: Kafka;
  topic: string;
  /** Time between probes. */
  intervalMs: number;
  /** One probe (connect + metadata) fails after this long. */
  timeoutMs: number;
  /** Failed probes in a row that mean "down"; one success means "up" again. */
  failuresToDown: number;
  onChange: (up: boolean, reason: string | undefined) => void;
}

/**
 * Whether the brokers answer, found out within about `intervalMs × failuresToDown` instead of a
 * produce timeout: a cheap metadata request for the telemetry topic on a timer, through an admin
 * connection of its own (remade after every failure, so a restarted broker is found again).
 */
export class KafkaHealthProbe {
  private timer: NodeJS.Timeout | undefined;
  private admin: Admin | undefined;
  private failures = 0;
  private up = true;
  private running: Promise<void> | undefined;
  private lastReason: string | undefined;

  constructor(private readonly options: KafkaHealthProbeOptions) {}

  get isUp(): boolean {
    return this.up;
  }

  get reason(): string | undefined {
    return this.up ? undefined : this.lastReason;
  }

  start(): void {
    this.timer ??= setInterval(() => {
      this.running ??= this.probe().finally(() => (this.running = undefined));
    }, this.options.intervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.running;
    await this.admin?.disconnect().catch(() => undefined);
    this.admin = undefined;
  }

  /** One probe; exposed for tests. */
  async probe(): Promise<void> {
    const { kafka, topic, timeoutMs } = this.options;
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        (async () => {
          this.admin ??= kafka.admin({ retry: { retries: 0 } });
          await this.admin.connect();
          await this.admin.fetchTopicMetadata({ topics: [topic] });
        })(),
        new Promise<never>((_, reject) => {
          timer = setTimeout(
            () => reject(new Error(`no answer within ${timeoutMs} ms`)),
            timeoutMs,
          );
        }),
      ]);
      this.failures = 0;
      this.set(true, undefined);
    } catch (error) {
      const admin = this.admin;
      this.admin = undefined;
      void admin?.disconnect().catch(() => undefined);
      this.failures += 1;
      this.lastReason = `Kafka unreachable: ${(error as Error).message}`;
      if (this.failures >= this.options.failuresToDown) this.set(false, this.lastReason);
    } finally {
      clearTimeout(timer);
    }
  }

  private set(up: boolean, reason: string | undefined): void {
    if (up === this.up) return;
    this.up = up;
    this.options.onChange(up, reason);
  }
}

import type { Admin, Kafka } from 'kafkajs';

export interface KafkaLagProbeOptions {
  kafka: Kafka;
  topic: string;
  groupId: string;
  /** Time between measurements. Default 5 s. */
  intervalMs?: number;
  /** Each partition's lag: its high-water offset minus the group's committed offset. */
  onLag: (partition: number, lag: number) => void;
}

/**
 * Consumer lag measured at the broker on a timer: the group's committed offsets against the
 * topic's high-water marks, through an admin connection of its own. Unlike a lag taken from the
 * last batch read, it rises while nothing is consumed (a crashed or stalled consumer), which is
 * when it matters. A partition the group never committed counts from its first offset.
 */
export class KafkaLagProbe {
  private timer: NodeJS.Timeout | undefined;
  private admin: Admin | undefined;
  private running: Promise<void> | undefined;

  constructor(private readonly options: KafkaLagProbeOptions) {}

  start(): void {
    this.timer ??= setInterval(() => {
      this.running ??= this.measure()
        .then(
          () => undefined,
          () => this.reset(),
        )
        .finally(() => (this.running = undefined));
    }, this.options.intervalMs ?? 5_000);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.running;
    await this.reset();
  }

  /** One measurement; throws when the broker does not answer (the last values stay). */
  async measure(): Promise<Map<number, number>> {
    const { kafka, topic, groupId } = this.options;
    this.admin ??= kafka.admin({ retry: { retries: 0 } });
    await this.admin.connect();
    const [ends, committed] = await Promise.all([
      this.admin.fetchTopicOffsets(topic),
      this.admin.fetchOffsets({ groupId, topics: [topic] }),
    ]);
    const done = new Map<number, number>();
    for (const { partitions } of committed) {
      for (const { partition, offset } of partitions) done.set(partition, Number(offset));
    }
    const lags = new Map<number, number>();
    for (const { partition, high, low } of ends) {
      const at = done.get(partition) ?? -1;
      const lag = Math.max(0, Number(high) - (at >= 0 ? at : Number(low)));
      lags.set(partition, lag);
      this.options.onLag(partition, lag);
    }
    return lags;
  }

  private async reset(): Promise<void> {
    const admin = this.admin;
    this.admin = undefined;
    await admin?.disconnect().catch(() => undefined);
  }
}

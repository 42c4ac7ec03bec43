import {
  encodeTelemetryRecord,
  telemetryRecordKey,
  type TelemetryRecord,
} from '@fleetwire/protocol';
import type { SqlClient } from '@fleetwire/store';
import { Kafka, Partitioners, logLevel, type Admin, type Producer } from 'kafkajs';

export { waitFor } from '@fleetwire/testkit';

export function telemetry(i: number, overrides: Partial<TelemetryRecord> = {}): TelemetryRecord {
  const deviceId = `dev-${i % 37}`;
  return {
    v: 1,
    tenant: 'acme',
    deviceId,
    msgId: `msg-${i}`,
    topic: `devices/${deviceId}/telemetry`,
    ts: Date.now() - 60_000 + (i % 1000),
    data: { seq: i, temp: i % 50 },
    ...overrides,
  };
}

/** A producer and an admin on the test brokers, for feeding and inspecting a worker. */
export class KafkaFixture {
  private constructor(
    readonly kafka: Kafka,
    readonly producer: Producer,
    readonly admin: Admin,
  ) {}

  static async connect(brokers: string[]): Promise<KafkaFixture> {
    const kafka = new Kafka({ clientId: 'ingest-test', brokers, logLevel: logLevel.NOTHING });
    const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
    const admin = kafka.admin();
    await Promise.all([producer.connect(), admin.connect()]);
    return new KafkaFixture(kafka, producer, admin);
  }

  /** Produces records `from` … `to - 1` of `telemetry(i)`, keyed like the edge does. */
  async produceRange(topic: string, from: number, to: number, chunk = 2000): Promise<void> {
    for (let start = from; start < to; start += chunk) {
      const records = Array.from({ length: Math.min(chunk, to - start) }, (_, k) =>
        telemetry(start + k),
      );
      await this.produce(topic, records);
    }
  }

  async produce(topic: string, records: TelemetryRecord[]): Promise<void> {
    await this.producer.send({
      topic,
      acks: -1,
      messages: records.map((r) => ({
        key: telemetryRecordKey(r),
        value: encodeTelemetryRecord(r),
      })),
    });
  }

  /** Produces raw values; returns the partition and offset of each. */
  async produceRaw(
    topic: string,
    values: (Buffer | string)[],
  ): Promise<{ partition: number; offset: string }[]> {
    const out: { partition: number; offset: string }[] = [];
    for (const value of values) {
      const [meta] = await this.producer.send({
        topic,
        acks: -1,
        messages: [{ key: 'acme/raw', value }],
      });
      out.push({ partition: meta!.partition, offset: meta!.baseOffset! });
    }
    return out;
  }

  /** True once the group's committed offset equals the end offset on every partition. */
  async caughtUp(groupId: string, topic: string): Promise<boolean> {
    const [ends, [committed]] = await Promise.all([
      this.admin.fetchTopicOffsets(topic),
      this.admin.fetchOffsets({ groupId, topics: [topic] }),
    ]);
    return ends.every(
      (end) =>
        end.high === '0' ||
        committed!.partitions.find((p) => p.partition === end.partition)?.offset === end.high,
    );
  }

  async close(): Promise<void> {
    await Promise.all([this.producer.disconnect(), this.admin.disconnect()]);
  }
}

export async function countRows(client: SqlClient, tenant = 'acme'): Promise<number> {
  const { rows } = await client.query<{ n: number }>(
    'select count(*)::int as n from telemetry where tenant = $1',
    [tenant],
  );
  return rows[0]!.n;
}

import {
  encodeTelemetryRecord,
  telemetryRecordKey,
  type TelemetryRecord,
} from '@fleetwire/protocol';
import { Kafka, logLevel, type Producer } from 'kafkajs';

import type { TelemetryLogMetrics } from './metrics.js';
import { TelemetryBatcher } from './telemetry-batcher.js';
import { TelemetryLogError, type TelemetryLog } from './telemetry-log.js';

export interface KafkaTelemetryLogOptions {
  brokers: string[];
  topic: string;
  clientId?: string;
  maxBatch?: number;
  lingerMs?: number;
  maxBuffered?: number;
  /** How long one produce may take, retries included, before its records are refused. */
  sendTimeoutMs?: number;
  metrics?: TelemetryLogMetrics;
  /** Receives kafkajs's warnings and errors (pino-style). */
  logger?: { warn(obj: object, msg: string): void; error(obj: object, msg: string): void };
}

/**
 * Telemetry into Kafka: idempotent producer (no duplicates from its own retries), acks from all
 * in-sync replicas, key = `tenant/deviceId` so each device's records stay in order on one
 * partition. Retries are bounded: when Kafka is down a batch fails within `sendTimeoutMs` and
 * its devices are told to retry, instead of waiting forever.
 */
export class KafkaTelemetryLog implements TelemetryLog {
  private readonly batcher: TelemetryBatcher;
  private failing = false;
  /** A send that timed out but kafkajs still works on. */
  private abandoned: Promise<void> | undefined;

  private constructor(
    private readonly producer: Producer,
    private readonly options: KafkaTelemetryLogOptions,
  ) {
    this.batcher = new TelemetryBatcher({
      maxBatch: options.maxBatch ?? 500,
      lingerMs: options.lingerMs ?? 5,
      maxBuffered: options.maxBuffered ?? 20_000,
      send: (records) => this.send(records),
      ...(options.metrics ? { metrics: options.metrics } : {}),
    });
  }

  static async connect(options: KafkaTelemetryLogOptions): Promise<KafkaTelemetryLog> {
    const sendTimeoutMs = options.sendTimeoutMs ?? 10_000;
    const { logger } = options;
    const kafka = new Kafka({
      clientId: options.clientId ?? 'fleetwire-edge',
      brokers: options.brokers,
      connectionTimeout: 3_000,
      requestTimeout: Math.min(sendTimeoutMs, 30_000),
      logLevel: logLevel.WARN,
      logCreator: () => (entry) => {
        if (!logger) return;
        const { message, ...extra } = entry.log;
        if (entry.level === logLevel.ERROR) logger.error({ kafkajs: extra }, message);
        else logger.warn({ kafkajs: extra }, message);
      },
    });
    const producer = kafka.producer({
      idempotent: true,
      maxInFlightRequests: 1,
      // Bounded on purpose (kafkajs warns): a stuck batch must become nack retry, not a hang.
      retry: { retries: 5, initialRetryTime: 100, maxRetryTime: Math.max(200, sendTimeoutMs / 4) },
    });
    try {
      await producer.connect();
    } catch (cause) {
      throw new TelemetryLogError(
        'LOG_UNAVAILABLE',
        `cannot connect to Kafka at ${options.brokers.join(',')}`,
        {
          cause,
        },
      );
    }
    return new KafkaTelemetryLog(producer, options);
  }

  /** False while the last produce failed: readiness reports it. */
  get ready(): boolean {
    return !this.failing;
  }

  get depth(): number {
    return this.batcher.depth;
  }

  append(record: TelemetryRecord): Promise<void> {
    return this.batcher.append(record);
  }

  flush(): Promise<void> {
    return this.batcher.flush();
  }

  async close(): Promise<void> {
    await this.batcher.close();
    await this.producer.disconnect();
  }

  private async send(records: TelemetryRecord[]): Promise<void> {
    const timeoutMs = this.options.sendTimeoutMs ?? 10_000;
    // One batch in flight at a time, also after a timeout: keeps each device's order.
    await this.abandoned;
    const sending = this.producer.send({
      topic: this.options.topic,
      acks: -1,
      messages: records.map((record) => ({
        key: telemetryRecordKey(record),
        value: encodeTelemetryRecord(record),
      })),
    });
    let timer: NodeJS.Timeout | undefined;
    let timedOut = false;
    try {
      await Promise.race([
        sending,
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => {
            timedOut = true;
            reject(new Error(`produce took over ${timeoutMs} ms`));
          }, timeoutMs);
        }),
      ]);
      this.failing = false;
    } catch (error) {
      this.failing = true;
      // kafkajs goes on with a send we gave up on; the next one waits until it settles.
      if (timedOut)
        this.abandoned = sending.then(
          () => undefined,
          () => undefined,
        );
      throw error;
    } finally {
      clearTimeout(timer);
    }
  }
}

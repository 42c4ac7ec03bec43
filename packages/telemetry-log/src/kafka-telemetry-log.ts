import {
  encodeTelemetryRecord,
  telemetryRecordKey,
  type TelemetryRecord,
} from '@fleetwire/protocol';
import { Kafka, logLevel, type ISocketFactory, type Producer } from 'kafkajs';

import { KafkaHealthProbe } from './kafka-health-probe.js';
import { kafkaLogCreator } from './kafka-logging.js';

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
  /**
   * How often the brokers are probed (a metadata request), and how many failed probes in a row
   * mean "down": while down, appends are refused at once (devices get nack `retry` promptly)
   * instead of each waiting for the send timeout. Defaults: 500 ms, 2 (down noticed within ~2 s).
   */
  probeIntervalMs?: number;
  probeFailuresToDown?: number;
  /** How broker connections are opened (kafkajs's default: plain TCP); tests lose answers with it. */
  socketFactory?: ISocketFactory;
  /** Receives kafkajs's warnings and errors (pino-style). */
  logger?: { warn(obj: object, msg: string): void; error(obj: object, msg: string): void };
}

/** The edge's producer; a new one replaces it after every failed send (see `send`). */
function telemetryProducer(kafka: Kafka, sendTimeoutMs: number): Producer {
  return kafka.producer({
    idempotent: true,
    maxInFlightRequests: 1,
    // Bounded on purpose (kafkajs warns): a stuck batch must become nack retry, not a hang.
    retry: { retries: 5, initialRetryTime: 100, maxRetryTime: Math.max(200, sendTimeoutMs / 4) },
  });
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
  /**
   * A send failed, so the producer's sequence numbers are no longer safe to go on with: kafkajs
   * gives the next batch the failed one's numbers, and when the broker had appended the failed
   * batch after all (its answer lost: a broker killed after the write, a request timed out), it
   * takes the next batch for a retry of that one and answers "duplicate, stored" without storing
   * it: records acked and never in the log. A new producer (a new producer id) starts afresh.
   */
  private producerSpent = false;
  private readonly probe: KafkaHealthProbe;
  /** A send that timed out but kafkajs still works on. */
  private abandoned: Promise<void> | undefined;

  private constructor(
    private readonly kafka: Kafka,
    private producer: Producer,
    private readonly options: KafkaTelemetryLogOptions,
  ) {
    const intervalMs = options.probeIntervalMs ?? 500;
    this.probe = new KafkaHealthProbe({
      kafka,
      topic: options.topic,
      intervalMs,
      timeoutMs: Math.max(250, Math.floor(intervalMs * 1.5)),
      failuresToDown: options.probeFailuresToDown ?? 2,
      onChange: (up, reason) => {
        if (up) this.failing = false;
        if (up) options.logger?.warn({ up }, 'Kafka reachable again');
        else
          options.logger?.error(
            { up, reason },
            'Kafka unreachable: refusing telemetry (nack retry)',
          );
      },
    });
    this.probe.start();
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
      ...(options.socketFactory ? { socketFactory: options.socketFactory } : {}),
      ...(logger ? { logCreator: kafkaLogCreator(logger) } : { logLevel: logLevel.NOTHING }),
    });
    const producer = telemetryProducer(kafka, sendTimeoutMs);
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
    return new KafkaTelemetryLog(kafka, producer, options);
  }

  /** False while the brokers do not answer the probe, or the last produce failed. */
  get ready(): boolean {
    return this.probe.isUp && !this.failing;
  }

  /** Why it is not ready. */
  get notReadyBecause(): string | undefined {
    if (!this.probe.isUp) return this.probe.reason;
    return this.failing ? 'the last produce to Kafka failed' : undefined;
  }

  get depth(): number {
    return this.batcher.depth;
  }

  append(record: TelemetryRecord): Promise<void> {
    if (!this.probe.isUp) {
      return Promise.reject(
        new TelemetryLogError('LOG_UNAVAILABLE', this.probe.reason ?? 'Kafka unreachable'),
      );
    }
    return this.batcher.append(record);
  }

  flush(): Promise<void> {
    return this.batcher.flush();
  }

  async close(): Promise<void> {
    await this.probe.stop();
    await this.batcher.close();
    await this.producer.disconnect();
  }

  /** Replaces a producer a send failed on; stays spent (the next send tries again) if it fails. */
  private async renewProducer(): Promise<void> {
    const spent = this.producer;
    this.producer = telemetryProducer(this.kafka, this.options.sendTimeoutMs ?? 10_000);
    void spent.disconnect().catch(() => undefined);
    await this.producer.connect();
    this.producerSpent = false;
    this.options.metrics?.producerRenewals.inc();
    this.options.logger?.warn(
      {},
      'new Kafka producer after a failed send (its sequence numbers could hide the next batch)',
    );
  }

  private async send(records: TelemetryRecord[]): Promise<void> {
    const timeoutMs = this.options.sendTimeoutMs ?? 10_000;
    // One batch in flight at a time, also after a timeout: keeps each device's order.
    await this.abandoned;
    const sending = (async () => {
      if (this.producerSpent) await this.renewProducer();
      await this.producer.send({
        topic: this.options.topic,
        acks: -1,
        messages: records.map((record) => ({
          key: telemetryRecordKey(record),
          value: encodeTelemetryRecord(record),
        })),
      });
    })();
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
      this.producerSpent = true;
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

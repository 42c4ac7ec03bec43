import { Kafka, logLevel } from 'kafkajs';

import { freePorts } from './free-port.js';
import { LocalService, type LocalServiceOptions } from './local-service.js';

/** A single-node KRaft Kafka (broker + controller) from the jars infra/local/install.sh fetched. */
export class LocalKafka extends LocalService {
  private constructor(
    readonly port: number,
    private readonly controllerPort: number,
    options: LocalServiceOptions,
  ) {
    super('kafka', 'run-kafka.sh', options);
  }

  static async launch(options: LocalServiceOptions = {}): Promise<LocalKafka> {
    // Two distinct ports: Kafka refuses a broker and a controller listener on the same one.
    const [port, controllerPort] = await freePorts(2);
    const kafka = new LocalKafka(port!, controllerPort!, options);
    await kafka.start();
    return kafka;
  }

  get brokers(): string[] {
    return [`127.0.0.1:${this.port}`];
  }

  protected scriptArgs(): string[] {
    return [this.dir, String(this.port), String(this.controllerPort)];
  }

  protected async probe(): Promise<boolean> {
    const admin = new Kafka({
      clientId: 'fleetwire-testkit-probe',
      brokers: this.brokers,
      logLevel: logLevel.NOTHING,
      retry: { retries: 0 },
      connectionTimeout: 2_000,
    }).admin();
    try {
      await admin.connect();
      const cluster = await admin.describeCluster();
      return cluster.brokers.length > 0 && cluster.controller !== null;
    } finally {
      await admin.disconnect().catch(() => undefined);
    }
  }
}

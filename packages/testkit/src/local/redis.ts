import { Redis } from 'ioredis';

import { freePort } from './free-port.js';
import { LocalService, type LocalServiceOptions } from './local-service.js';

export class LocalRedis extends LocalService {
  private constructor(
    readonly port: number,
    options: LocalServiceOptions,
  ) {
    super('redis', 'run-redis.sh', options);
  }

  static async launch(options: LocalServiceOptions = {}): Promise<LocalRedis> {
    const redis = new LocalRedis(await freePort(), options);
    await redis.start();
    return redis;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  protected scriptArgs(): string[] {
    return [this.dir, String(this.port)];
  }

  protected async probe(): Promise<boolean> {
    const client = new Redis(this.url, {
      lazyConnect: true,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
    });
    // A refused connection already rejects connect(); the duplicate 'error' event is not news.
    client.on('error', () => undefined);
    try {
      await client.connect();
      return (await client.ping()) === 'PONG';
    } finally {
      client.disconnect();
    }
  }
}

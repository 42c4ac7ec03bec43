import { chmodSync } from 'node:fs';

import pg from 'pg';

import { freePort } from './free-port.js';
import { LocalService, type LocalServiceOptions } from './local-service.js';

export class LocalPostgres extends LocalService {
  private constructor(
    readonly port: number,
    options: LocalServiceOptions,
  ) {
    super('postgres', 'run-postgres.sh', options);
    // As root the server runs as `postgres`, which must be able to reach its data dir inside.
    chmodSync(this.dir, 0o755);
  }

  static async launch(options: LocalServiceOptions = {}): Promise<LocalPostgres> {
    const postgres = new LocalPostgres(await freePort(), options);
    await postgres.start();
    return postgres;
  }

  /** The admin URL (superuser, database `postgres`). */
  get url(): string {
    return `postgres://postgres@127.0.0.1:${this.port}/postgres`;
  }

  protected scriptArgs(): string[] {
    // The cluster lives in a subfolder: initdb wants a dir it can own, and the log sits beside it.
    return [`${this.dir}/pgdata`, String(this.port)];
  }

  protected async probe(): Promise<boolean> {
    const client = new pg.Client({ connectionString: this.url, connectionTimeoutMillis: 2_000 });
    try {
      await client.connect();
      await client.query('select 1');
      return true;
    } finally {
      await client.end().catch(() => undefined);
    }
  }
}

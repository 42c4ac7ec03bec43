import { testPostgres } from '@fleetwire/testkit';

import type { SqlClient } from './sql-client.js';
import { createPgClient } from './pg-driver.js';

/** A client on a fresh PostgreSQL database from the testkit; `close` ends both. */
export interface TestSqlClient {
  client: SqlClient;
  close(): Promise<void>;
}

/**
 * For the contract suites that run once over PGlite and once over a real PostgreSQL: the real
 * side's setup, in one place. Test-only (`@fleetwire/store/testing`), so the testkit stays a
 * development dependency of whoever imports it.
 */
export async function openTestPostgres(): Promise<TestSqlClient> {
  const database = await testPostgres();
  const client = createPgClient({ connectionString: database.url });
  return {
    client,
    async close() {
      await client.close();
      await database.close();
    },
  };
}

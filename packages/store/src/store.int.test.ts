import { testPostgres } from '@fleetwire/testkit';

import { createPgClient } from './pg-driver.js';
import { describeStoreContract } from './store-contract.js';

describeStoreContract('PostgreSQL', async () => {
  const database = await testPostgres();
  const client = createPgClient({ connectionString: database.url });
  return {
    client,
    async close() {
      await client.close();
      await database.close();
    },
  };
});

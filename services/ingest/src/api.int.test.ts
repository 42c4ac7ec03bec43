import { createPgClient } from '@fleetwire/store';
import { testPostgres } from '@fleetwire/testkit';

import { describeReadApi } from './api-contract.js';

describeReadApi('PostgreSQL', async () => {
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

import { testPostgres } from '@fleetwire/testkit';

import { describeDeviceStateContract } from './device-state-contract.js';
import { createPgClient } from './pg-driver.js';

describeDeviceStateContract('PostgreSQL', async () => {
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

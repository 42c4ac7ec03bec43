import { createPgliteClient } from './pglite-driver.js';
import { describeStoreContract } from './store-contract.js';

describeStoreContract('PGlite (in memory)', async () => {
  const client = await createPgliteClient();
  return { client, close: () => client.close() };
});

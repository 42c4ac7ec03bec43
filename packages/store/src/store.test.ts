import { createPgliteClient } from './pglite-driver.js';
import { createPgliteThreadClient } from './pglite-thread.js';
import { describeStoreContract } from './store-contract.js';

describeStoreContract('PGlite (in memory)', async () => {
  const client = await createPgliteClient();
  return { client, close: () => client.close() };
});

describeStoreContract('PGlite (in memory, on its own thread)', async () => {
  const client = await createPgliteThreadClient();
  return { client, close: () => client.close() };
});

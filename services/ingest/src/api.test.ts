import { createPgliteClient } from '@fleetwire/store';

import { describeReadApi } from './api-contract.js';

describeReadApi('PGlite', async () => {
  const client = await createPgliteClient();
  return { client, close: () => client.close() };
});

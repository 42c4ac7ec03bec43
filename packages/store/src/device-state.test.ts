import { describeDeviceStateContract } from './device-state-contract.js';
import { createPgliteClient } from './pglite-driver.js';

describeDeviceStateContract('PGlite (in memory)', async () => {
  const client = await createPgliteClient();
  return { client, close: () => client.close() };
});

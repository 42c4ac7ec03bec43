import { describeDeviceStateContract } from './device-state-contract.js';
import { createPgliteClient } from './pglite-driver.js';
import { createPgliteThreadClient } from './pglite-thread.js';

describeDeviceStateContract('PGlite (in memory)', async () => {
  const client = await createPgliteClient();
  return { client, close: () => client.close() };
});

describeDeviceStateContract('PGlite (in memory, on its own thread)', async () => {
  const client = await createPgliteThreadClient();
  return { client, close: () => client.close() };
});

import { MemoryPresence } from './memory-presence.js';
import { presenceContract } from './presence-contract.js';

presenceContract('memory', async () => {
  const store = new MemoryPresence(30_000);
  return {
    store,
    ttlMs: 30_000,
    reopen: async (limits) => store.instance(limits),
    flush: async () => store.flush(),
    close: async () => undefined,
  };
});

import { MemoryPresence } from './memory-presence.js';
import { presenceContract } from './presence-contract.js';

presenceContract('memory', async () => ({
  store: new MemoryPresence(30_000),
  ttlMs: 30_000,
  close: async () => undefined,
}));

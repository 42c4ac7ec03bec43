import { busContract } from './bus-contract.js';
import { MemoryBusHub } from './memory-bus.js';

busContract('memory', async () => {
  const hub = new MemoryBusHub();
  const [a, b, c] = ['a', 'b', 'c'].map((id) => hub.connect(id)) as [
    ReturnType<MemoryBusHub['connect']>,
    ReturnType<MemoryBusHub['connect']>,
    ReturnType<MemoryBusHub['connect']>,
  ];
  return {
    a,
    b,
    c,
    brokerPatterns: async () => [a, b, c].reduce((n, bus) => n + bus.holdings().patterns, 0),
    close: async () => void (await Promise.all([a, b, c].map((n) => n.close()))),
  };
});

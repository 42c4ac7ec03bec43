import { busContract } from './bus-contract.js';
import { FabricBus } from './fabric-bus.js';
import { LocalFabric } from './local-fabric.js';
import { MemoryBusHub } from './memory-bus.js';

// a and b are workers of one process, c a worker of another: the contract holds across both.
busContract('fabric (two workers of one process, one of another)', async () => {
  const hub = new MemoryBusHub();
  const processA = new LocalFabric(hub.connect('process-a'));
  const processB = new LocalFabric(hub.connect('process-b'));
  const [a, b, c] = await Promise.all([
    FabricBus.connect(processA.attach(), 'a'),
    FabricBus.connect(processA.attach(), 'b'),
    FabricBus.connect(processB.attach(), 'c'),
  ]);
  return {
    a,
    b,
    c,
    brokerPatterns: async () => [...hub.nodes].reduce((n, bus) => n + bus.holdings().patterns, 0),
    close: async () => {
      await Promise.all([a, b, c].map((n) => n.close()));
      processA.close();
      processB.close();
    },
  };
});

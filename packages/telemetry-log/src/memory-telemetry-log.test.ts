import { MemoryTelemetryLog } from './memory-telemetry-log.js';
import { telemetryLogContract } from './telemetry-log-contract.js';

telemetryLogContract('memory', async () => {
  const log = new MemoryTelemetryLog();
  return {
    log,
    readBack: async () => log.read(0, Number.MAX_SAFE_INTEGER).records,
    close: () => log.close(),
  };
});

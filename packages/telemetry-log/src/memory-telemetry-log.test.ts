import { describe, expect, it } from 'vitest';

import { MemoryTelemetryLog } from './memory-telemetry-log.js';
import { record, telemetryLogContract } from './telemetry-log-contract.js';

telemetryLogContract('memory', async () => {
  const log = new MemoryTelemetryLog();
  return {
    log,
    readBack: async () => log.read(0, Number.MAX_SAFE_INTEGER).records,
    close: () => log.close(),
  };
});

describe('MemoryTelemetryLog.release', () => {
  it('forgets stored records but keeps offsets stable', async () => {
    const log = new MemoryTelemetryLog();
    for (let n = 0; n < 5; n++) await log.append(record('d', n));
    log.release(3);
    expect(log.held).toBe(2);
    expect(log.length).toBe(5);
    expect(log.read(0, 10)).toEqual({ records: [record('d', 3), record('d', 4)], next: 5 });
    expect(log.read(4, 10).records.map((r) => r.msgId)).toEqual(['d-4']);
    log.release(99);
    expect(log.held).toBe(0);
    await log.append(record('d', 5));
    expect(log.read(5, 10)).toEqual({ records: [record('d', 5)], next: 6 });
  });
});

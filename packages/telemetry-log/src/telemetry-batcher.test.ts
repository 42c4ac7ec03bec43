import type { TelemetryRecord } from '@fleetwire/protocol';
import { describe, expect, it } from 'vitest';

import { TelemetryBatcher } from './telemetry-batcher.js';
import { record } from './telemetry-log-contract.js';

/** 'pending' when `promise` has not settled within `ms`. */
function settledWithin<T>(promise: Promise<T>, ms: number): Promise<T | 'pending'> {
  return Promise.race([promise, new Promise<'pending'>((r) => setTimeout(() => r('pending'), ms))]);
}

describe('TelemetryBatcher', () => {
  it('sends a record appended as the send loop that acked the previous one ends', async () => {
    for (const maxBatch of [1, 10]) {
      const sent: string[] = [];
      const batcher = new TelemetryBatcher({
        maxBatch,
        lingerMs: 1,
        maxBuffered: 100,
        send: async (records: TelemetryRecord[]) => {
          sent.push(...records.map((r) => r.msgId));
        },
      });
      const appends = (async () => {
        for (let n = 0; n < 5; n++) {
          // Appended in the previous ack's own continuation: the loop that sent that record has
          // looked for more already, but has not finished yet.
          await batcher.append(record('d', n));
        }
      })();
      expect(await settledWithin(appends, 1000)).toBeUndefined();
      expect(sent).toEqual(['d-0', 'd-1', 'd-2', 'd-3', 'd-4']);
      expect(batcher.depth).toBe(0);
    }
  });
});

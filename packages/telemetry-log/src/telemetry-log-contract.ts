import type { TelemetryRecord } from '@fleetwire/protocol';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import type { TelemetryLog } from './telemetry-log.js';

export interface LogUnderTest {
  log: TelemetryLog;
  /** Everything durable in the log, in log order per device. */
  readBack(expected: number): Promise<TelemetryRecord[]>;
  close(): Promise<void>;
}

export function record(deviceId: string, n: number): TelemetryRecord {
  return {
    v: 1,
    tenant: 'acme',
    deviceId,
    msgId: `${deviceId}-${n}`,
    topic: `devices/${deviceId}/telemetry`,
    ts: 1_700_000_000_000 + n,
    data: { n },
  };
}

/** What every TelemetryLog driver must do: Kafka (integration) and the in-process twin (unit). */
export function telemetryLogContract(name: string, open: () => Promise<LogUnderTest>): void {
  describe(`TelemetryLog contract: ${name}`, () => {
    let subject: LogUnderTest;
    beforeEach(async () => {
      subject = await open();
    });
    afterEach(async () => {
      await subject.close();
    });

    it('an append that resolved is in the log, each device in its order', async () => {
      const appended = [];
      for (let n = 0; n < 300; n++) appended.push(subject.log.append(record(`d${n % 4}`, n)));
      await Promise.all(appended);
      const stored = await subject.readBack(300);
      expect(stored).toHaveLength(300);
      for (const device of ['d0', 'd1', 'd2', 'd3']) {
        const ns = stored.filter((r) => r.deviceId === device).map((r) => r.data['n']);
        expect(ns).toEqual([...ns].sort((a, b) => Number(a) - Number(b)));
        expect(ns).toHaveLength(75);
      }
    });

    it('flush resolves once every earlier append is durable; a closed log refuses', async () => {
      const pending = [subject.log.append(record('x', 1)), subject.log.append(record('x', 2))];
      await subject.log.flush();
      await Promise.all(pending);
      expect((await subject.readBack(2)).map((r) => r.msgId)).toEqual(['x-1', 'x-2']);
      await subject.log.close();
      await expect(subject.log.append(record('x', 3))).rejects.toMatchObject({
        code: 'LOG_CLOSED',
      });
    });
  });
}

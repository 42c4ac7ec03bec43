import { describe, expect, it } from 'vitest';

import {
  decodeTelemetryRecord,
  encodeTelemetryRecord,
  type TelemetryRecord,
} from './telemetry-record.js';

const record: TelemetryRecord = {
  v: 1,
  tenant: 'acme',
  deviceId: 'd1',
  msgId: 'm1',
  topic: 'devices/d1/telemetry',
  ts: 1_700_000_000_000,
  data: { t: 21.5 },
};

describe('telemetry records', () => {
  it('round-trip', () => {
    expect(decodeTelemetryRecord(encodeTelemetryRecord(record))).toEqual(record);
  });

  it.each([
    [Buffer.from('{oops'), 'record_undecodable'],
    [null, 'record_undecodable'],
    [Buffer.from(JSON.stringify({ ...record, ts: 'yesterday' })), 'record_invalid'],
    [Buffer.from(JSON.stringify({ ...record, v: 2 })), 'record_invalid'],
  ])('refuses %s with a reason', (value, code) => {
    expect(() => decodeTelemetryRecord(value)).toThrow(expect.objectContaining({ code }));
  });
});

describe('decodeTelemetryRecord bounds', () => {
  it('refuses a record nested past WRAPPED_DECODE_LIMITS without walking it', () => {
    const deep = '['.repeat(10_000) + ']'.repeat(10_000);
    const value = Buffer.from(
      `{"v":1,"tenant":"t","deviceId":"d","msgId":"m","topic":"devices/d/telemetry","ts":1,"data":{"x":${deep}}}`,
    );
    expect(() => decodeTelemetryRecord(value)).toThrow(
      expect.objectContaining({
        code: 'record_invalid',
        message: expect.stringContaining('nested deeper than 66 levels'),
      }),
    );
  });
});

import { encodeTelemetryRecord } from '@fleetwire/protocol';
import { describe, expect, it } from 'vitest';

import { checkRecord } from './record-check.js';

const NOW = Date.UTC(2025, 0, 10, 12);
const limits = {
  maxRecordBytes: 512,
  maxFutureSkewMs: 60_000,
  oldestTs: NOW - 86_400_000,
  now: NOW,
};
const good = {
  v: 1 as const,
  tenant: 'acme',
  deviceId: 'd1',
  msgId: 'm1',
  topic: 'devices/d1/telemetry',
  ts: NOW,
  data: { temp: 21 },
};
const check = (value: unknown) =>
  checkRecord(Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)), limits);

describe('checkRecord', () => {
  it('accepts a valid record', () => {
    expect(checkRecord(encodeTelemetryRecord(good), limits)).toEqual({ ok: true, record: good });
  });

  it('names the dead-letter reason of every kind of bad record', () => {
    expect(check({ ...good, data: { blob: 'x'.repeat(600) } })).toMatchObject({
      ok: false,
      reason: 'record_too_large',
    });
    expect(check('{not json')).toEqual({
      ok: false,
      reason: 'record_undecodable',
      message: 'value is not JSON',
    });
    expect(checkRecord(null, limits)).toMatchObject({ reason: 'record_undecodable' });
    expect(check({ ...good, v: 2 })).toMatchObject({ ok: false, reason: 'record_invalid' });
    expect(check({ ...good, deviceId: '' })).toMatchObject({ reason: 'record_invalid' });
    expect(check({ ...good, data: { note: 'a\u0000b' } })).toEqual({
      ok: false,
      reason: 'record_invalid',
      message: 'value refused: data.note: strings must not contain U+0000',
    });
    expect(check({ ...good, data: { ['k\ud800']: 1 } })).toEqual({
      ok: false,
      reason: 'record_invalid',
      message: 'value refused: data.(a key): unpaired UTF-16 surrogate',
    });
    expect(check({ ...good, ts: NOW + 60_001 })).toMatchObject({ reason: 'record_out_of_range' });
    expect(check({ ...good, ts: NOW - 86_400_001 })).toMatchObject({
      reason: 'record_out_of_range',
    });
  });

  it('refuses data nested too deep without throwing (a throw would stop the partition)', () => {
    for (const depth of [1000, 100_000]) {
      const value = `{"v":1,"tenant":"acme","deviceId":"d1","msgId":"m1","topic":"t","ts":${NOW},"data":{"a":${'['.repeat(depth)}${']'.repeat(depth)}}}`;
      const checked = checkRecord(Buffer.from(value), { ...limits, maxRecordBytes: 1 << 20 });
      expect(checked).toMatchObject({ ok: false, reason: 'record_invalid' });
    }
  });

  it('keeps paired surrogates (emoji) and other text PostgreSQL can store', () => {
    expect(check({ ...good, data: { mood: '🙂', ключ: 'значение' } })).toMatchObject({ ok: true });
  });
});

import { describe, expect, it } from 'vitest';

import { parseDeviceTimestamp, parseIsoDateTime } from './device-timestamp.js';

const AT = Date.UTC(2025, 4, 29, 12, 45, 0);

describe('parseDeviceTimestamp', () => {
  it.each([
    ['2025-05-29T12:45:00Z', AT],
    ['2025-05-29T12:45:00.250Z', AT + 250],
    ['2025-05-29T12:45:00.123456789Z', AT + 123],
    ['2025-05-29 12:45:00Z', AT],
    ['2025-05-29T12:45Z', AT],
    ['2025-05-29T12:45:00', AT], // no offset: UTC
    ['2025-05-29T14:45:00+02:00', AT],
    ['2025-05-29T14:45:00+0200', AT],
    ['2025-05-29T07:45:00-05', AT],
    ['2024-02-29T00:00:00Z', Date.UTC(2024, 1, 29)],
  ])('reads ISO 8601 %s', (text, ms) => {
    expect(parseDeviceTimestamp(text)).toBe(ms);
  });

  it('reads epoch seconds (below 10^11) and epoch milliseconds', () => {
    expect(parseDeviceTimestamp(AT / 1000)).toBe(AT);
    expect(parseDeviceTimestamp(AT / 1000 + 0.25)).toBe(AT + 250);
    expect(parseDeviceTimestamp(AT)).toBe(AT);
    expect(parseDeviceTimestamp(AT + 0.9)).toBe(AT);
    // A board's millis() since boot is a (1970) time; the edge decides not to believe it.
    expect(parseDeviceTimestamp(12_345)).toBe(12_345_000);
    expect(parseDeviceTimestamp(0)).toBe(0);
  });

  it.each([
    ['yesterday', /"yesterday" is not a date and time/],
    ['29/05/2025 12:45', /is not a date and time/],
    ['May 29 2025 12:45:00', /is not a date and time/],
    ['2025-05-29', /is not a date and time/],
    ['2025-02-30T00:00:00Z', /is not a valid date and time/],
    ['2025-05-29T24:00:00Z', /is not a valid date and time/],
    ['2025-05-29T12:60:00Z', /is not a valid date and time/],
    ['2025-05-29T12:45:00+24:00', /is not a valid date and time/],
    ['', /is not a date and time/],
    [-1, /-1 is not a time/],
    [Number.NaN, /NaN is not a time/],
    [Number.POSITIVE_INFINITY, /is not a time/],
    [1e300, /out of range/],
    [true, /a boolean is not a time/],
    [null, /a null is not a time/],
    [{ s: 1 }, /an? object is not a time/],
  ])('refuses %j with bad_message', (value, message) => {
    expect(() => parseDeviceTimestamp(value, 'm-1')).toThrow(
      expect.objectContaining({
        code: 'bad_message',
        ref: 'm-1',
        message: expect.stringMatching(message),
      }),
    );
  });
});

describe('parseIsoDateTime', () => {
  it('reads what parseDeviceTimestamp reads from a string', () => {
    expect(parseIsoDateTime('2025-05-29T12:45:00+02:00')).toBe(Date.UTC(2025, 4, 29, 10, 45));
    expect(parseIsoDateTime(new Date(1_700_000_000_123).toISOString())).toBe(1_700_000_000_123);
  });

  it('answers undefined where Date.parse would guess a date', () => {
    for (const text of [
      '-5',
      '5',
      '1 2 3',
      'March 7',
      'foo 2020',
      '2020/1/1',
      '2025-02-30T00:00Z',
    ]) {
      expect(parseIsoDateTime(text), text).toBeUndefined();
    }
  });
});

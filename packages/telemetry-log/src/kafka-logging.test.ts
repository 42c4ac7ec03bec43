import { logLevel } from 'kafkajs';
import { afterEach, describe, expect, it, vi } from 'vitest';

import { kafkaLogCreator } from './kafka-logging.js';

afterEach(() => vi.useRealTimers());

describe('kafkaLogCreator', () => {
  it('logs each kind of kafkajs warning or error once per interval, with a count', () => {
    vi.useFakeTimers();
    const lines: { level: string; details: object; message: string }[] = [];
    const sink = {
      error: (details: object, message: string) => lines.push({ level: 'error', details, message }),
      warn: (details: object, message: string) => lines.push({ level: 'warn', details, message }),
    };
    const log = kafkaLogCreator(sink, 10_000)(logLevel.ERROR);
    const entry = (level: logLevel, message: string) =>
      log({
        namespace: 'Connection',
        level,
        label: 'ERROR',
        log: { timestamp: 'now', message, broker: 'b:1' },
      });
    for (let i = 0; i < 355; i += 1)
      entry(logLevel.ERROR, 'Connection error: connect ECONNREFUSED');
    entry(logLevel.WARN, 'The group is rebalancing');
    entry(logLevel.INFO, 'joined');
    expect(lines.map((l) => [l.level, l.message])).toEqual([
      ['error', 'Connection error: connect ECONNREFUSED'],
      ['warn', 'The group is rebalancing'],
    ]);
    vi.advanceTimersByTime(10_000);
    expect(lines).toHaveLength(3);
    expect(lines[2]).toMatchObject({
      level: 'error',
      message: 'Connection error: connect ECONNREFUSED',
      details: { count: 354, kafkajs: { broker: 'b:1' } },
    });
  });
});

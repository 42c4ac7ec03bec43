import type { DeliveryMessage } from '@fleetwire/protocol';
import { describe, expect, it } from 'vitest';

import { Positions, topicMatches } from './positions.js';

const message = (topic: string, pos: string, sub?: string): DeliveryMessage => ({
  type: 'message',
  kind: 'telemetry',
  topic,
  from: 'd1',
  ts: 1,
  data: {},
  pos,
  ...(sub === undefined ? {} : { sub }),
});

describe('Positions', () => {
  it('matches topics MQTT-style', () => {
    expect(topicMatches('devices/+/telemetry', 'devices/d1/telemetry')).toBe(true);
    expect(topicMatches('devices/+/telemetry', 'devices/d1/telemetry/x')).toBe(false);
    expect(topicMatches('devices/#', 'devices')).toBe(true);
    expect(topicMatches('devices/#', 'devices/d1/events/x')).toBe(true);
    expect(topicMatches('devices/d2/#', 'devices/d1/status')).toBe(false);
  });

  it('a live message moves every matching subscription; a tagged one only its own', () => {
    const positions = new Positions();
    const subscribed = ['devices/+/telemetry', 'devices/d1/#', 'rooms/#'];
    positions.seen(message('devices/d1/telemetry', 'e:1-0'), subscribed);
    expect(positions.since(subscribed)).toEqual({
      'devices/+/telemetry': 'e:1-0',
      'devices/d1/#': 'e:1-0',
    });
    positions.seen(message('devices/d2/telemetry', 'e:2-0', 'devices/+/telemetry'), subscribed);
    expect(positions.get('devices/+/telemetry')).toBe('e:2-0');
    expect(positions.get('devices/d1/#')).toBe('e:1-0');
  });

  it('a settling subscription is moved by its own recovered messages only', () => {
    const positions = new Positions();
    const subscribed = ['devices/#', 'devices/d1/#'];
    positions.seen(message('devices/d1/status', 'e:1-0'), subscribed);
    positions.settlingFrom(['devices/#']);
    // Live on devices/d1/# (already joined) while devices/# still recovers: not devices/#'s.
    positions.seen(message('devices/d1/status', 'e:9-0'), subscribed);
    expect(positions.get('devices/#')).toBe('e:1-0');
    positions.seen(message('devices/d3/status', 'e:5-0', 'devices/#'), subscribed);
    expect(positions.get('devices/#')).toBe('e:5-0');
    positions.settled(['devices/#']);
    positions.seen(message('devices/d1/status', 'e:10-0'), subscribed);
    expect(positions.get('devices/#')).toBe('e:10-0');
    positions.forget('devices/#');
    expect(positions.since(subscribed)).toEqual({ 'devices/d1/#': 'e:10-0' });
  });

  it('messages without a position (history off) change nothing', () => {
    const positions = new Positions();
    const { pos: _pos, ...plain } = message('a', 'e:1-0');
    positions.seen(plain, ['#']);
    expect(positions.since(['#'])).toBeUndefined();
  });
});

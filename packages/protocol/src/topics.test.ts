import { describe, expect, it } from 'vitest';

import {
  PatternIndex,
  patternCovers,
  patternProblem,
  topicMatches,
  topicProblem,
} from './topics.js';

describe('topicMatches', () => {
  it.each([
    ['devices/+/telemetry', 'devices/a1/telemetry', true],
    ['devices/+/telemetry', 'devices/a1/telemetry/temp', false],
    ['devices/#', 'devices/a1/telemetry/temp', true],
    ['devices/#', 'devices', true],
    ['#', 'anything/at/all', true],
    ['devices/a1/+', 'devices/a1', false],
    ['devices/a1/status', 'devices/a1/status', true],
    ['devices/a1/status', 'devices/a2/status', false],
  ])('%s ~ %s → %s', (pattern, topic, expected) => {
    expect(topicMatches(pattern, topic)).toBe(expected);
  });
});

describe('patternCovers', () => {
  it.each([
    ['devices/#', 'devices/+/telemetry', true],
    ['devices/+/telemetry', 'devices/a1/telemetry', true],
    ['devices/+/telemetry', 'devices/#', false],
    ['devices/a1/#', 'devices/+/telemetry', false],
    ['devices/+/telemetry', 'devices/+/telemetry', true],
    ['devices/a1/telemetry', 'devices/+/telemetry', false],
    ['#', 'a/b/#', true],
    ['a/#', 'a', true],
    ['a/+', 'a', false],
  ])('%s covers %s → %s', (allowed, requested, expected) => {
    expect(patternCovers(allowed, requested)).toBe(expected);
  });
});

describe('validation', () => {
  it.each(['devices/a/telemetry', 'a', 'a/b-c_d.e/f'])('accepts topic %s', (topic) => {
    expect(topicProblem(topic)).toBeUndefined();
  });
  it.each([
    ['', /empty/],
    ['a//b', /empty level/],
    ['a/+/b', /wildcard/],
    ['$internal/x', /reserved/],
    ['a/\u0000', /control/],
    ['x'.repeat(257), /longer than 256/],
    [Array(17).fill('a').join('/'), /more than 16 levels/],
  ])('rejects topic %j', (topic, problem) => {
    expect(topicProblem(topic)).toMatch(problem);
  });
  it.each(['a/+/b', 'a/#', '#', '+'])('accepts pattern %s', (pattern) => {
    expect(patternProblem(pattern)).toBeUndefined();
  });
  it.each([
    ['a/#/b', /only as the last level/],
    ['a/x+/b', /whole level/],
    ['a/b#', /whole level/],
  ])('rejects pattern %s', (pattern, problem) => {
    expect(patternProblem(pattern)).toMatch(problem);
  });
});

describe('PatternIndex', () => {
  it('matches held patterns against a topic, as topicMatches would', () => {
    const patterns = ['#', 'a/#', 'a/+/c', 'a/b/c', 'a/b', '+/b/+', 'x/y'];
    const index = new PatternIndex();
    for (const p of patterns) index.add(p);
    for (const topic of ['a/b/c', 'a/b', 'a', 'x/y', 'q/b/z', 'a/b/c/d']) {
      const expected = patterns.filter((p) => topicMatches(p, topic)).sort();
      expect(index.match(topic).sort()).toEqual(expected);
    }
  });

  it('counts holders, reports first and last, and prunes to empty', () => {
    const index = new PatternIndex();
    expect(index.add('a/+')).toBe(true);
    expect(index.add('a/+')).toBe(false);
    expect(index.count('a/+')).toBe(2);
    expect(index.remove('a/+')).toBe(false);
    expect(index.remove('a/+')).toBe(true);
    expect(index.remove('a/+')).toBe(false);
    expect(index.size).toBe(0);
    expect(index.match('a/b')).toEqual([]);
    expect(index.nodeCount()).toBe(0);
  });
});

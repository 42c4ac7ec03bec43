import { mkdtempSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';

import { describe, expect, it } from 'vitest';

import { cpuQuota, usableCores } from './usable-cores.js';

describe('usableCores', () => {
  it('reads the cgroup v2 quota: CPUs = quota / period, none for max or garbage', () => {
    expect(cpuQuota('200000 100000\n')).toBe(2);
    expect(cpuQuota('150000 100000')).toBe(1.5);
    expect(cpuQuota('max 100000\n')).toBeUndefined();
    expect(cpuQuota('')).toBeUndefined();
    expect(cpuQuota('-1 100000')).toBeUndefined();
    expect(cpuQuota('abc def')).toBeUndefined();
  });

  it('caps the CPU count by the quota, rounded up, at least 1', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cpu-max-'));
    const file = (text: string): string => {
      const path = join(dir, `cpu.max.${text.replace(/\W/g, '_')}`);
      writeFileSync(path, text);
      return path;
    };
    expect(usableCores(file('50000 100000'))).toBe(1);
    expect(usableCores(file('1000 100000'))).toBe(1);
    expect(usableCores(file('max 100000'))).toBe(availableParallelism());
    expect(usableCores(file(`${availableParallelism() * 4 * 100000} 100000`))).toBe(
      availableParallelism(),
    );
    expect(usableCores(join(dir, 'missing'))).toBe(availableParallelism());
  });
});

import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';

/**
 * The cores this process may use: the CPUs it may run on (`availableParallelism`, which follows
 * the CPU affinity mask) capped by its cgroup v2 CPU quota, rounded up. A container limited to
 * 1.5 CPUs on a 64-core host gets 2, not 64. Without a readable quota (cgroup v1, not Linux, no
 * limit) the CPU count alone.
 */
export function usableCores(cpuMaxPath = '/sys/fs/cgroup/cpu.max'): number {
  const cpus = availableParallelism();
  let quota: number | undefined;
  try {
    quota = cpuQuota(readFileSync(cpuMaxPath, 'utf8'));
  } catch {
    quota = undefined;
  }
  return quota === undefined ? cpus : Math.max(1, Math.min(cpus, Math.ceil(quota)));
}

/** CPUs granted by a cgroup v2 `cpu.max` (`<quota> <period>`, or `max <period>`: no limit). */
export function cpuQuota(cpuMax: string): number | undefined {
  const [quota, period] = cpuMax.trim().split(/\s+/);
  const q = Number(quota);
  const p = Number(period);
  if (quota === 'max' || !Number.isFinite(q) || !Number.isFinite(p) || q <= 0 || p <= 0) {
    return undefined;
  }
  return q / p;
}

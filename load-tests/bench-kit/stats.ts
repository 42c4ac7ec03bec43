/** Wall-clock ms with sub-ms resolution: clients stamp and compare on one clock. */
export const now = (): number => performance.timeOrigin + performance.now();

/**
 * The value below which a fraction `p` (0..1) of the samples lie, nearest rank; NaN when there
 * are none. `sorted` must be sorted ascending.
 */
export function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? Number.NaN;
}

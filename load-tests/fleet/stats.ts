/**
 * What the scenarios measure, in k6's three kinds: counters, rates (share of true) and trends
 * (every sample kept: a run of this size has at most a few million, and merging processes then
 * needs no histogram maths). Each client process fills one and sends it to the runner.
 */
export interface FleetStats {
  counters: Record<string, number>;
  rates: Record<string, { yes: number; no: number }>;
  trends: Record<string, number[]>;
}

export const emptyStats = (): FleetStats => ({ counters: {}, rates: {}, trends: {} });

export function count(stats: FleetStats, name: string, by = 1): void {
  stats.counters[name] = (stats.counters[name] ?? 0) + by;
}

export function rate(stats: FleetStats, name: string, ok: boolean): void {
  const entry = (stats.rates[name] ??= { yes: 0, no: 0 });
  if (ok) entry.yes += 1;
  else entry.no += 1;
}

export function trend(stats: FleetStats, name: string, value: number): void {
  (stats.trends[name] ??= []).push(value);
}

export function merge(into: FleetStats, from: FleetStats): void {
  for (const [name, value] of Object.entries(from.counters)) count(into, name, value);
  for (const [name, { yes, no }] of Object.entries(from.rates)) {
    const entry = (into.rates[name] ??= { yes: 0, no: 0 });
    entry.yes += yes;
    entry.no += no;
  }
  for (const [name, values] of Object.entries(from.trends)) {
    const target = (into.trends[name] ??= []);
    for (const value of values) target.push(value);
  }
}

export interface TrendSummary {
  count: number;
  avg: number;
  min: number;
  med: number;
  p90: number;
  p95: number;
  p99: number;
  max: number;
}

export function summarize(values: number[]): TrendSummary | undefined {
  if (values.length === 0) return undefined;
  const sorted = Float64Array.from(values).sort();
  const at = (p: number): number =>
    sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
  let sum = 0;
  for (const value of sorted) sum += value;
  return {
    count: sorted.length,
    avg: sum / sorted.length,
    min: sorted[0]!,
    med: at(50),
    p90: at(90),
    p95: at(95),
    p99: at(99),
    max: sorted[sorted.length - 1]!,
  };
}

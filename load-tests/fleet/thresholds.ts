/** The pass/fail criteria of the run: k6's fleet.js thresholds, the same names and bounds. */
import { summarize, type FleetStats } from './stats.js';

export interface Threshold {
  metric: string;
  rule: string;
  held(stats: FleetStats): boolean;
}

const ratioOver = (metric: string, bound: number): Threshold => ({
  metric,
  rule: `rate>${bound}`,
  held: (stats) => {
    const entry = stats.rates[metric];
    return entry !== undefined && entry.yes / (entry.yes + entry.no) > bound;
  },
});

const percentileUnder = (metric: string, p: 95 | 99, boundMs: number): Threshold => ({
  metric,
  rule: `p(${p})<${boundMs}`,
  held: (stats) => {
    const summary = summarize(stats.trends[metric] ?? []);
    return summary !== undefined && summary[p === 95 ? 'p95' : 'p99'] < boundMs;
  },
});

export const THRESHOLDS: readonly Threshold[] = [
  ratioOver('fleetwire_connect_ok', 0.99),
  percentileUnder('fleetwire_telemetry_ack_ms', 95, 250),
  percentileUnder('fleetwire_telemetry_ack_ms', 99, 1000),
  {
    metric: 'fleetwire_telemetry_nacked',
    rule: 'count<1',
    held: (s) => (s.counters['fleetwire_telemetry_nacked'] ?? 0) < 1,
  },
  percentileUnder('fleetwire_deliver_ms', 95, 250),
  percentileUnder('fleetwire_deliver_ms', 99, 1000),
  ratioOver('fleetwire_command_ok', 0.99),
  percentileUnder('fleetwire_command_rtt_ms', 95, 250),
  percentileUnder('fleetwire_command_rtt_ms', 99, 1000),
  percentileUnder('ws_connecting', 95, 1000),
];

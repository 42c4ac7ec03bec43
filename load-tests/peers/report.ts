/** The results table: one row per measure, one column per server, and Fleetwire ÷ raw uWS. */
import type { PeerName } from './servers.js';

export interface Measure {
  /** Row label. */
  label: string;
  /** Per server: one value per repetition, and notes such as "3 lost". */
  values: Partial<Record<PeerName, { samples: number[]; notes: string[] }>>;
  format(value: number): string;
  /** Which way is better, for reading the ratio. */
  better: 'higher' | 'lower';
  /** No ratio: the baseline is about zero (Redis bytes of servers that keep nothing there). */
  noRatio?: boolean;
}

export const COLUMNS: readonly PeerName[] = [
  'raw-uws',
  'ws',
  'socketio',
  'centrifugo',
  'fleetwire',
];
const TITLES: Record<PeerName, string> = {
  'raw-uws': 'raw uWS',
  ws: '`ws`',
  socketio: 'Socket.IO',
  centrifugo: 'Centrifugo 6.9',
  fleetwire: 'Fleetwire',
};

export function median(samples: number[]): number {
  const sorted = [...samples].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** The median, with the range when repeated (`--repeat`): this machine is shared and noisy. */
function cell(measure: Measure, peer: PeerName): string {
  const entry = measure.values[peer];
  if (!entry || entry.samples.length === 0) return '—';
  const { samples, notes } = entry;
  let text = measure.format(median(samples));
  if (samples.length > 1) {
    text += ` (${measure.format(Math.min(...samples))}–${measure.format(Math.max(...samples))})`;
  }
  return notes.length > 0 ? `${text}; ${[...new Set(notes)].join(', ')}` : text;
}

/** Fleetwire ÷ raw uWS per repetition (both measured in the same round), median and range. */
function ratio(measure: Measure): string {
  if (measure.noRatio) return '—';
  const ours = measure.values.fleetwire?.samples ?? [];
  const base = measure.values['raw-uws']?.samples ?? [];
  const ratios = ours.slice(0, base.length).map((value, i) => value / base[i]!);
  if (ratios.length === 0 || ratios.some((r) => !Number.isFinite(r))) return '—';
  const text = `${median(ratios).toFixed(2)}×`;
  return ratios.length > 1
    ? `${text} (${Math.min(...ratios).toFixed(2)}–${Math.max(...ratios).toFixed(2)})`
    : text;
}

export function table(measures: Measure[]): string {
  const header = ['workload', ...COLUMNS.map((c) => TITLES[c]), 'Fleetwire ÷ raw uWS'];
  const lines = [`| ${header.join(' | ')} |`, `|${header.map(() => '---').join('|')}|`];
  for (const measure of measures) {
    const cells = [measure.label, ...COLUMNS.map((c) => cell(measure, c)), ratio(measure)];
    lines.push(`| ${cells.join(' | ')} |`);
  }
  return lines.join('\n');
}

export const fmt = {
  // Redis grows by a few bytes at random (its own bookkeeping): under 50 B is nothing.
  bytes: (value: number): string =>
    Math.abs(value) < 50
      ? '≈ 0 B'
      : value >= 1024
        ? `${(value / 1024).toFixed(2)} KB`
        : `${Math.round(value)} B`,
  perSec: (value: number): string =>
    value >= 1e6
      ? `${(value / 1e6).toFixed(2)} M/s`
      : value >= 1e3
        ? `${(value / 1e3).toFixed(1)} k/s`
        : `${value.toFixed(0)}/s`,
  ms: (value: number): string => `${value.toFixed(value < 10 ? 2 : 1)} ms`,
  us: (value: number): string => `${value.toFixed(0)} µs`,
  plain: (value: number): string => value.toFixed(value < 10 ? 2 : 0),
};

/**
 * Just enough of the Prometheus text format for the overview: sample lines `name{labels} value`,
 * summed by a label, and quantiles of a histogram between two scrapes.
 */
export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

const LINE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

export function parseMetrics(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const match = LINE.exec(line);
    if (!match) continue;
    const labels: Record<string, string> = {};
    for (const [, key, value] of (match[2] ?? '').matchAll(LABEL)) labels[key!] = value!;
    const value = Number(match[3]);
    if (!Number.isNaN(value)) samples.push({ name: match[1]!, labels, value });
  }
  return samples;
}

/** The sum of a metric's samples, optionally only those whose labels match `where`. */
export function total(
  samples: Sample[],
  name: string,
  where: (labels: Record<string, string>) => boolean = () => true,
): number {
  return samples
    .filter((s) => s.name === name && where(s.labels))
    .reduce((sum, s) => sum + s.value, 0);
}

/** A metric's samples summed by one label. */
export function byLabel(samples: Sample[], name: string, label: string): Map<string, number> {
  const sums = new Map<string, number>();
  for (const s of samples) {
    if (s.name !== name) continue;
    const key = s.labels[label] ?? '';
    sums.set(key, (sums.get(key) ?? 0) + s.value);
  }
  return sums;
}

/**
 * The q-quantile of what a histogram observed between two scrapes (cumulative `_bucket` counts),
 * interpolated inside the bucket as Prometheus's histogram_quantile does; undefined when
 * nothing was observed.
 */
export function histogramQuantile(
  before: Sample[],
  after: Sample[],
  name: string,
  q: number,
): number | undefined {
  const counts = (samples: Sample[]) => {
    const byLe = new Map<number, number>();
    for (const s of samples) {
      if (s.name !== `${name}_bucket`) continue;
      const le = s.labels['le'] === '+Inf' ? Infinity : Number(s.labels['le']);
      byLe.set(le, (byLe.get(le) ?? 0) + s.value);
    }
    return byLe;
  };
  const start = counts(before);
  const end = counts(after);
  const bounds = [...end.keys()].sort((a, b) => a - b);
  const deltas = bounds.map((le) => (end.get(le) ?? 0) - (start.get(le) ?? 0));
  const observed = deltas[deltas.length - 1] ?? 0;
  if (observed <= 0) return undefined;
  const rank = q * observed;
  for (let i = 0; i < bounds.length; i += 1) {
    if (deltas[i]! < rank) continue;
    const upper = bounds[i]!;
    const lower = i === 0 ? 0 : bounds[i - 1]!;
    if (upper === Infinity) return lower;
    const below = i === 0 ? 0 : deltas[i - 1]!;
    const inBucket = deltas[i]! - below;
    return inBucket <= 0 ? upper : lower + ((upper - lower) * (rank - below)) / inBucket;
  }
  return undefined;
}

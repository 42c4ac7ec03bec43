import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

const MAX_POINTS = 300;
/**
 * Series the chart draws at most: the device names its fields, and each new one rebuilds the
 * chart with a legend row (a device sending 250 new keys a message froze the page for seconds).
 */
export const MAX_SERIES = 6;
const MAX_LABEL = 32;
const COLORS = ['#2563eb', '#dc2626', '#16a34a', '#9333ea', '#ea580c', '#0891b2'];

/** The top-level numeric fields of a telemetry payload: what can be charted. */
export function numericFields(data: Record<string, unknown>): Record<string, number> {
  const fields: Record<string, number> = {};
  for (const [key, value] of Object.entries(data)) {
    if (typeof value === 'number' && Number.isFinite(value)) fields[key] = value;
  }
  return fields;
}

/** The fields of a message the chart should start drawing: new ones, while there is room. */
export function freshSeries(fields: Record<string, number>, drawn: readonly string[]): string[] {
  const room = MAX_SERIES - drawn.length;
  if (room <= 0) return [];
  return Object.keys(fields)
    .filter((field) => !drawn.includes(field))
    .slice(0, room);
}

/**
 * A uPlot line chart of one device's numeric fields over its last MAX_POINTS messages: the
 * first MAX_SERIES fields seen. A field seen for the first time rebuilds the chart with one
 * more series.
 */
export class LiveChart {
  private plot: uPlot | undefined;
  private fields: string[] = [];
  private times: number[] = [];
  private values = new Map<string, (number | null)[]>();

  constructor(private readonly element: HTMLElement) {}

  get points(): number {
    return this.times.length;
  }

  reset(): void {
    this.plot?.destroy();
    this.plot = undefined;
    this.fields = [];
    this.times = [];
    this.values = new Map();
  }

  /**
   * Points fetched for a gap: merged in time order with what the chart holds, a point already
   * there (same time) kept once, so a refetched range fills the hole without doubling the rest.
   */
  merge(points: readonly { ts: number; data: Record<string, unknown> }[]): void {
    const held = this.times.map((t, i) => ({
      ts: t * 1000,
      data: Object.fromEntries(this.fields.map((f) => [f, this.values.get(f)?.[i]])),
    }));
    const known = new Set(held.map((p) => p.ts));
    const all = [...held, ...points.filter((p) => !known.has(p.ts))].sort((a, b) => a.ts - b.ts);
    this.reset();
    for (const point of all.slice(-MAX_POINTS)) this.add(point.ts, point.data);
  }

  add(ts: number, data: Record<string, unknown>): void {
    const fields = numericFields(data);
    const fresh = freshSeries(fields, this.fields);
    for (const field of fresh) {
      this.fields.push(field);
      this.values.set(
        field,
        this.times.map(() => null),
      );
    }
    this.times.push(ts / 1000);
    // Own keys only: `constructor` or `toString` are fields a device may name, not Object's.
    for (const field of this.fields) {
      this.values.get(field)?.push(Object.hasOwn(fields, field) ? (fields[field] as number) : null);
    }
    if (this.times.length > MAX_POINTS) {
      this.times.shift();
      for (const series of this.values.values()) series.shift();
    }
    if (fresh.length > 0 || !this.plot) this.build();
    else this.plot.setData(this.data());
  }

  private data(): uPlot.AlignedData {
    return [this.times, ...this.fields.map((f) => this.values.get(f) ?? [])];
  }

  private build(): void {
    this.plot?.destroy();
    if (this.fields.length === 0) return;
    this.plot = new uPlot(
      {
        width: Math.max(320, this.element.clientWidth),
        height: 200,
        series: [
          {},
          ...this.fields.map((field, i) => ({
            label: field.length > MAX_LABEL ? `${field.slice(0, MAX_LABEL)}…` : field,
            stroke: COLORS[i % COLORS.length],
            width: 2,
          })),
        ],
        axes: [{}, {}],
      },
      this.data(),
      this.element,
    );
  }
}

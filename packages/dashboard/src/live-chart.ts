import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

const MAX_POINTS = 300;
const COLORS = ['#2563eb', '#dc2626', '#16a34a', '#9333ea', '#ea580c', '#0891b2'];

/** The top-level numeric fields of a telemetry payload: what can be charted. */
export function numericFields(data: Record<string, unknown>): Record<string, number> {
  const fields: Record<string, number> = {};
  for (const [key, value] of Object.entries(data)) {
    if (typeof value === 'number' && Number.isFinite(value)) fields[key] = value;
  }
  return fields;
}

/**
 * A uPlot line chart of one device's numeric fields over its last MAX_POINTS messages. A field
 * seen for the first time rebuilds the chart with one more series.
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

  add(ts: number, data: Record<string, unknown>): void {
    const fields = numericFields(data);
    const fresh = Object.keys(fields).filter((f) => !this.values.has(f));
    for (const field of fresh) {
      this.fields.push(field);
      this.values.set(
        field,
        this.times.map(() => null),
      );
    }
    this.times.push(ts / 1000);
    for (const field of this.fields) this.values.get(field)?.push(fields[field] ?? null);
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
            label: field,
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

import uPlot from 'uplot';

import { ApiError, series, type Bucket } from './api.js';

/** Series requests in flight at once (one per field), well under the read API's per-token 8. */
const SERIES_AT_ONCE = 3;

/** `fetch` for every item, at most `size` at a time; answers in the items' order. */
export async function inBatches<T, R>(
  items: readonly T[],
  size: number,
  fetch: (item: T) => Promise<R>,
): Promise<R[]> {
  const results: R[] = [];
  for (let i = 0; i < items.length; i += size) {
    results.push(...(await Promise.all(items.slice(i, i + size).map(fetch))));
  }
  return results;
}

const COLORS = ['#2563eb', '#dc2626', '#16a34a', '#9333ea', '#ea580c', '#0891b2'];

/** The picker's ranges and their bucket sizes: about a hundred points whatever the range. */
export const RANGES: Record<string, { ms: number; bucketMs: number }> = {
  '15m': { ms: 15 * 60_000, bucketMs: 10_000 },
  '1h': { ms: 3_600_000, bucketMs: 30_000 },
  '6h': { ms: 6 * 3_600_000, bucketMs: 180_000 },
  '24h': { ms: 24 * 3_600_000, bucketMs: 720_000 },
  '7d': { ms: 7 * 24 * 3_600_000, bucketMs: 3_600_000 },
};

/**
 * Several numeric fields of one device over a chosen range, each down-sampled by the read API
 * (`/v1/devices/{id}/series`, one request per field) and drawn as its bucket averages on one
 * time axis.
 */
export class SeriesChart {
  private plot: uPlot | undefined;
  private generation = 0;

  constructor(
    private readonly element: HTMLElement,
    private readonly status: HTMLElement,
  ) {}

  async load(token: string, deviceId: string, fields: string[], range: string): Promise<void> {
    const { ms, bucketMs } = RANGES[range] ?? RANGES['1h']!;
    const generation = ++this.generation;
    const to = Date.now();
    const from = to - ms;
    this.status.textContent = `loading ${range}…`;
    let results: Bucket[][];
    try {
      // A few at a time: the read API bounds each token's requests in progress (8 by default).
      results = await inBatches(fields, SERIES_AT_ONCE, (field) =>
        series(token, deviceId, field, from, to, bucketMs),
      );
    } catch (error) {
      if (generation !== this.generation) return;
      this.status.dataset['state'] = 'error';
      this.status.textContent =
        error instanceof ApiError ? `${error.code}: ${error.message}` : 'series unavailable';
      return;
    }
    if (generation !== this.generation) return;
    const starts = [...new Set(results.flat().map((b) => b.start))].sort((a, b) => a - b);
    const columns = results.map((buckets) => {
      const byStart = new Map(buckets.map((b) => [b.start, b.avg]));
      return starts.map((start) => byStart.get(start) ?? null);
    });
    this.status.dataset['state'] = 'ok';
    this.status.dataset['buckets'] = String(starts.length);
    this.status.textContent = `${starts.length} buckets of ${bucketMs / 1000} s over ${range} (average)`;
    this.draw(fields, [starts.map((s) => s / 1000), ...columns], [from / 1000, to / 1000]);
  }

  private draw(fields: string[], data: uPlot.AlignedData, range: [number, number]): void {
    this.plot?.destroy();
    this.plot = new uPlot(
      {
        width: Math.max(320, this.element.clientWidth),
        height: 200,
        // The whole range chosen, however few buckets have data.
        scales: { x: { time: true, range: () => range } },
        series: [
          {},
          ...fields.map((field, i) => ({
            label: field,
            stroke: COLORS[i % COLORS.length],
            width: 2,
            spanGaps: false,
          })),
        ],
        axes: [{}, {}],
      },
      data,
      this.element,
    );
  }
}

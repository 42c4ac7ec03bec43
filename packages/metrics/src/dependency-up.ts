import { Gauge, type Registry } from 'prom-client';

/**
 * `fleetwire_dependency_up{dependency}`: 1 while a dependency (redis, kafka, postgres, store)
 * answers, else 0, read from its client at scrape time, so the series is never stale.
 */
export class DependencyUpGauge {
  private readonly sources: (() => Record<string, { up: boolean }>)[] = [];

  constructor(registry: Registry) {
    const sources = this.sources;
    new Gauge({
      name: 'fleetwire_dependency_up',
      help: '1 while the dependency answers, else 0 (redis, kafka, postgres, store)',
      labelNames: ['dependency'],
      registers: [registry],
      collect() {
        this.reset();
        for (const source of sources) {
          for (const [dependency, { up }] of Object.entries(source())) {
            this.set({ dependency }, up ? 1 : 0);
          }
        }
      },
    });
  }

  /** Adds where the states come from; called at every scrape. */
  collectFrom(source: () => Record<string, { up: boolean }>): void {
    this.sources.push(source);
  }
}

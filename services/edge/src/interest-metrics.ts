import type { ClusterBusStats } from '@fleetwire/bus';
import { Counter, Gauge, type Registry } from '@fleetwire/metrics';

/**
 * Interest-based publishing on a Redis Cluster bus, as counters (and a gauge) read from the bus
 * at scrape time (the bus counts; there is nothing to keep in step).
 */
export function registerInterestMetrics(registry: Registry, stats: () => ClusterBusStats): void {
  const registers = [registry];
  new Counter({
    name: 'fleetwire_edge_bus_interest_publishes_total',
    help: 'Publishes and appends on a Redis Cluster, by result: fanned_out (crossed Redis) or skipped (no other node listens)',
    labelNames: ['result'],
    registers,
    collect() {
      const { fannedOut, skipped } = stats();
      this.reset();
      this.inc({ result: 'fanned_out' }, fannedOut);
      this.inc({ result: 'skipped' }, skipped);
    },
  });
  const counter = (name: string, help: string, read: (s: ClusterBusStats) => number): void => {
    new Counter({
      name,
      help,
      registers,
      collect() {
        this.reset();
        this.inc(read(stats()));
      },
    });
  };
  counter(
    'fleetwire_edge_bus_interest_ack_timeouts_total',
    'Subscriptions whose interest announcement was not acknowledged by every publisher in time',
    (s) => s.ackTimeouts,
  );
  counter(
    'fleetwire_edge_bus_interest_reaped_total',
    'Interest entries of silent (crashed) nodes this node took out of the tables',
    (s) => s.reaped,
  );
  counter(
    'fleetwire_edge_bus_interest_reannounced_total',
    'Times this node announced its interest again after it was taken out while alive (its heartbeat lapsed)',
    (s) => s.reannounced,
  );
  new Gauge({
    name: 'fleetwire_edge_bus_interest_followed_domains',
    help: 'Tenants whose interest table this node follows (it publishes into them or listens in them; let go after 10 min of neither)',
    registers,
    collect() {
      this.set(stats().followedDomains);
    },
  });
  counter(
    'fleetwire_edge_bus_interest_beat_failures_total',
    'Interest heartbeats (with their reaping) that failed',
    (s) => s.beatFailures,
  );
}

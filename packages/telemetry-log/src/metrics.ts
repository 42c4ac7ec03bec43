import {
  Counter,
  Gauge,
  Histogram,
  LATENCY_BUCKETS_SECONDS,
  SIZE_BUCKETS,
  type Registry,
} from '@fleetwire/metrics';

export class TelemetryLogMetrics {
  readonly batchSize: Histogram;
  readonly produceLatency: Histogram;
  readonly bufferDepth: Gauge;
  readonly refused: Counter<'reason'>;
  readonly records: Counter<'outcome'>;
  readonly producerRenewals: Counter;

  constructor(registry: Registry) {
    const registers = [registry];
    this.batchSize = new Histogram({
      name: 'fleetwire_telemetry_log_batch_size',
      help: 'Records per produce request',
      buckets: SIZE_BUCKETS,
      registers,
    });
    this.produceLatency = new Histogram({
      name: 'fleetwire_telemetry_log_produce_latency_seconds',
      help: 'From sending a batch to the log acknowledging it (all in-sync replicas)',
      buckets: LATENCY_BUCKETS_SECONDS,
      registers,
    });
    this.bufferDepth = new Gauge({
      name: 'fleetwire_telemetry_log_buffer_depth',
      help: 'Records accepted but not yet acknowledged by the log (waiting plus in flight)',
      registers,
    });
    this.refused = new Counter({
      name: 'fleetwire_telemetry_log_refused_total',
      help: 'Records refused, so their devices get nack retry: buffer_full or unavailable',
      labelNames: ['reason'],
      registers,
    });
    this.records = new Counter({
      name: 'fleetwire_telemetry_log_records_total',
      help: 'Records by outcome: stored or failed',
      labelNames: ['outcome'],
      registers,
    });
    this.producerRenewals = new Counter({
      name: 'fleetwire_telemetry_log_producer_renewals_total',
      help: 'Producers replaced after a failed send (an idempotent producer must not go on after one)',
      registers,
    });
  }
}

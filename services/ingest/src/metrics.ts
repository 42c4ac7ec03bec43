import {
  Counter,
  Gauge,
  Histogram,
  LATENCY_BUCKETS_SECONDS,
  SIZE_BUCKETS,
  type Registry,
} from '@fleetwire/metrics';

/** What the metrics read from the batch writer at scrape time. */
export interface WriterGauge {
  stuck: boolean;
  /** How long the write in hand has been going on (in flight or retrying), ms; 0 when idle. */
  pendingMs: number;
}

/** The ingest worker's series; docs in services/ingest/README.md. */
export class IngestMetrics {
  readonly consumerLag: Gauge<'topic' | 'partition'>;
  readonly assignedPartitions: Gauge;
  readonly recordsConsumed: Counter;
  readonly rowsWritten: Counter;
  readonly rowsDuplicate: Counter;
  readonly batchRows: Histogram;
  readonly writeSeconds: Histogram;
  readonly writeErrors: Counter<'code'>;
  readonly batchesSplit: Counter;
  readonly writerStuck: Gauge;
  readonly writePendingSeconds: Gauge;
  readonly dlqRecords: Counter<'reason'>;
  readonly dlqWithoutValue: Counter<'reason'>;
  readonly dlqLost: Counter<'reason'>;
  readonly dlqSendErrors: Counter;
  readonly rebalances: Counter;
  readonly commits: Counter<'outcome'>;
  readonly partitionsCreated: Counter;
  readonly partitionsDropped: Counter;
  readonly apiRequests: Counter<'route' | 'status'>;
  readonly apiSeconds: Histogram<'route'>;
  private writer: (() => WriterGauge) | undefined;
  private deadLetters: (() => WriterGauge) | undefined;

  constructor(readonly registry: Registry) {
    const registers = [registry];
    this.consumerLag = new Gauge({
      name: 'fleetwire_ingest_consumer_lag',
      help: 'Records between the committed offset and the high watermark, per assigned partition',
      labelNames: ['topic', 'partition'],
      registers,
    });
    this.assignedPartitions = new Gauge({
      name: 'fleetwire_ingest_assigned_partitions',
      help: 'Partitions assigned to this worker by the last rebalance',
      registers,
    });
    this.recordsConsumed = new Counter({
      name: 'fleetwire_ingest_records_consumed_total',
      help: 'Kafka records handled (stored, duplicate or dead-lettered)',
      registers,
    });
    this.rowsWritten = new Counter({
      name: 'fleetwire_ingest_rows_written_total',
      help: 'Telemetry rows inserted (new rows only; rate() gives rows/s)',
      registers,
    });
    this.rowsDuplicate = new Counter({
      name: 'fleetwire_ingest_rows_duplicate_total',
      help: 'Rows that were already stored (Kafka replays after a crash or rebalance)',
      registers,
    });
    this.batchRows = new Histogram({
      name: 'fleetwire_ingest_batch_rows',
      help: 'Rows per write statement',
      buckets: [...SIZE_BUCKETS, 10_000, 25_000, 50_000],
      registers,
    });
    this.writeSeconds = new Histogram({
      name: 'fleetwire_ingest_write_seconds',
      help: 'Duration of one batch write (successful attempts)',
      buckets: LATENCY_BUCKETS_SECONDS,
      registers,
    });
    this.writeErrors = new Counter({
      name: 'fleetwire_ingest_write_errors_total',
      help: 'Failed batch write attempts that are retried (outages, unknown failures), by StoreError code',
      labelNames: ['code'],
      registers,
    });
    this.batchesSplit = new Counter({
      name: 'fleetwire_ingest_batches_split_total',
      help: 'Batches the store refused for their contents, split to set the refused rows aside',
      registers,
    });
    this.writerStuck = new Gauge({
      name: 'fleetwire_ingest_writer_stuck',
      help: '1 while a batch write, or a dead-letter send of the record check, has been in flight or retrying longer than FLEETWIRE_WRITE_STUCK_AFTER_MS',
      registers,
      collect: () =>
        this.writerStuck.set(this.writer?.().stuck || this.deadLetters?.().stuck ? 1 : 0),
    });
    this.writePendingSeconds = new Gauge({
      name: 'fleetwire_ingest_write_pending_seconds',
      help: 'How long the batch write (or dead-letter send) in hand has been in flight or retrying (0 when idle)',
      registers,
      collect: () =>
        this.writePendingSeconds.set(
          Math.max(this.writer?.().pendingMs ?? 0, this.deadLetters?.().pendingMs ?? 0) / 1000,
        ),
    });
    this.dlqRecords = new Counter({
      name: 'fleetwire_ingest_dlq_records_total',
      help: 'Records sent to the dead-letter topic, by reason',
      labelNames: ['reason'],
      registers,
    });
    this.dlqWithoutValue = new Counter({
      name: 'fleetwire_ingest_dlq_without_value_total',
      help: 'Dead letters Kafka refused for good (too large, …), sent again without their value, by reason',
      labelNames: ['reason'],
      registers,
    });
    this.dlqLost = new Counter({
      name: 'fleetwire_ingest_dlq_lost_total',
      help: 'Dead letters Kafka refused for good even without their value (logged with their source), by reason',
      labelNames: ['reason'],
      registers,
    });
    this.dlqSendErrors = new Counter({
      name: 'fleetwire_ingest_dlq_send_errors_total',
      help: 'Failed dead-letter sends that are retried (the dead-letter sink unavailable)',
      registers,
    });
    this.rebalances = new Counter({
      name: 'fleetwire_ingest_rebalances_total',
      help: 'Consumer group joins (the first one at start, then one per rebalance)',
      registers,
    });
    this.commits = new Counter({
      name: 'fleetwire_ingest_offset_commits_total',
      help: 'Offset commits after a durable batch, by outcome (ok, refused: lost to a rebalance)',
      labelNames: ['outcome'],
      registers,
    });
    this.partitionsCreated = new Counter({
      name: 'fleetwire_ingest_partitions_created_total',
      help: 'Daily table partitions created by maintenance',
      registers,
    });
    this.partitionsDropped = new Counter({
      name: 'fleetwire_ingest_partitions_dropped_total',
      help: 'Daily table partitions dropped by retention',
      registers,
    });
    this.apiRequests = new Counter({
      name: 'fleetwire_ingest_api_requests_total',
      help: 'Read API requests by route and HTTP status',
      labelNames: ['route', 'status'],
      registers,
    });
    this.apiSeconds = new Histogram({
      name: 'fleetwire_ingest_api_request_seconds',
      help: 'Read API request duration by route',
      labelNames: ['route'],
      buckets: LATENCY_BUCKETS_SECONDS,
      registers,
    });
  }

  /** The batch writer whose state the stuck and pending gauges report (the last one given). */
  watchWriter(status: () => WriterGauge): void {
    this.writer = status;
  }

  /** The pipeline's dead-letter sending, reported by the same gauges (the last one given). */
  watchDeadLetters(status: () => WriterGauge): void {
    this.deadLetters = status;
  }
}

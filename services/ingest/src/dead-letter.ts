import type { LogRecord } from '@fleetwire/telemetry-log';

import type { IngestMetrics } from './metrics.js';
import type { DeadLetterReason } from './record-check.js';

/** A record that cannot be stored, with where it came from and why. */
export interface DeadLetter {
  /** The record as read: its bytes and its topic, partition and offset. */
  source: LogRecord;
  reason: DeadLetterReason;
  message: string;
}

/** What a sink did with letters it could not set aside whole (the others are durable). */
export interface DeadLetterReceipt {
  /** Set aside without their value: refused whole for good (Kafka: too large, …). */
  withoutValue: readonly DeadLetter[];
  /** Not set aside at all: refused for good even without their value (logged with the source). */
  lost: readonly DeadLetter[];
}

/**
 * Where records that cannot be stored are set aside: the dead-letter topic in a cluster
 * (`KafkaDeadLetterSink`), a JSON-lines file in the embedded mode. `send` resolves once every
 * letter is durable or given up for good (the receipt says which); the ingest commits past a
 * record only after that. It rejects only on failures worth retrying (the sink unavailable),
 * never on one that the same letters would meet again: a rejection is retried with backoff.
 * A `DeadLetterSendError` says how many of the first letters were handled before it.
 */
export interface DeadLetterSink {
  send(letters: readonly DeadLetter[]): Promise<DeadLetterReceipt | void>;
}

/** A send that failed part way: the first `handled` letters are durable or given up. */
export class DeadLetterSendError extends Error {
  override readonly name = 'DeadLetterSendError';
  readonly code = 'INGEST_DLQ_SEND_FAILED';
  constructor(
    message: string,
    readonly handled: number,
    readonly receipt: DeadLetterReceipt,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** How the caller of `sendDeadLetters` retries: its stop, its backoff, its failure log. */
export interface DeadLetterRetry {
  /** The send, or a rejection as soon as the caller gives up (stopped, batch revoked). */
  guard<T>(work: Promise<T>): Promise<T>;
  /** Whether `error` is the caller giving up: rethrown at once, never retried. */
  gaveUp(error: unknown): boolean;
  /** A send failed; it is retried after `wait`. */
  failed(error: Error, letters: number): void;
  /** Waits before retry `attempt` (0, 1, …); rejects when the caller gives up. */
  wait(attempt: number): Promise<void>;
}

function count(
  letters: readonly DeadLetter[],
  receipt: DeadLetterReceipt | void,
  metrics: IngestMetrics,
): void {
  const lost = new Set(receipt?.lost ?? []);
  for (const letter of letters) {
    if (!lost.has(letter)) metrics.dlqRecords.inc({ reason: letter.reason });
  }
  for (const letter of receipt?.withoutValue ?? []) {
    metrics.dlqWithoutValue.inc({ reason: letter.reason });
  }
  for (const letter of lost) metrics.dlqLost.inc({ reason: letter.reason });
}

/**
 * Sends `letters` until every one is durable or given up for good, counting them by reason
 * (`dlq_records_total`, `dlq_without_value_total`, `dlq_lost_total`). A failed send is retried
 * with the caller's backoff, for as long as it fails, and sends again only the letters not
 * handled yet; it rejects only when the caller gives up.
 */
export async function sendDeadLetters(
  sink: DeadLetterSink,
  letters: readonly DeadLetter[],
  metrics: IngestMetrics,
  retry: DeadLetterRetry,
): Promise<void> {
  let remaining = letters;
  for (let attempt = 0; remaining.length > 0; attempt += 1) {
    try {
      count(remaining, await retry.guard(sink.send(remaining)), metrics);
      return;
    } catch (error) {
      if (retry.gaveUp(error)) throw error;
      if (error instanceof DeadLetterSendError && error.handled > 0) {
        count(remaining.slice(0, error.handled), error.receipt, metrics);
        remaining = remaining.slice(error.handled);
      }
      metrics.dlqSendErrors.inc();
      const failure =
        error instanceof Error
          ? error
          : new Error(`dead-letter send: ${String(error)}`, { cause: error });
      retry.failed(failure, remaining.length);
      await retry.wait(attempt);
    }
  }
}

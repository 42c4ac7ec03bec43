import { RepeatedLog } from '@fleetwire/metrics';
import { logLevel, type LogEntry, type logCreator } from 'kafkajs';

export interface KafkaLogSink {
  error(details: object, message: string): void;
  warn(details: object, message: string): void;
  debug?(details: object, message: string): void;
}

/** Distinct messages tracked at once; past it, new kinds share one counter. */
const MAX_KINDS = 64;

/**
 * kafkajs's log, made readable under failure: while a broker is down kafkajs reports every
 * connection attempt (hundreds a minute per client). Each kind of warning or error (its message)
 * is logged once per interval with how many there were; the metrics keep exact numbers.
 */
export function kafkaLogCreator(sink: KafkaLogSink, intervalMs = 10_000): logCreator {
  const kinds = new Map<string, RepeatedLog<{ level: number; extra: object }>>();
  return () =>
    ({ level, log }: LogEntry) => {
      // No stack traces for what is expected while a broker is away.
      const {
        message,
        timestamp: _timestamp,
        logger: _logger,
        stack: _stack,
        ...extra
      } = log as typeof log & {
        stack?: unknown;
      };
      if (level !== logLevel.ERROR && level !== logLevel.WARN) {
        sink.debug?.(extra, message);
        return;
      }
      const kind =
        kinds.size < MAX_KINDS || kinds.has(message) ? message : '(other kafkajs messages)';
      let repeated = kinds.get(kind);
      if (!repeated) {
        repeated = new RepeatedLog<{ level: number; extra: object }>((count, last) => {
          const details = { kafkajs: last.extra, ...(count > 1 ? { count } : {}) };
          if (last.level === logLevel.ERROR) sink.error(details, kind);
          else sink.warn(details, kind);
        }, intervalMs);
        kinds.set(kind, repeated);
      }
      repeated.hit({ level, extra });
    };
}

/**
 * kafkajs errors that mean "the broker is away", whatever kafkajs calls them. kafkajs restarts a
 * crashed consumer only for errors it marks retriable, but some outage errors are marked final:
 * a consumer restarting while the broker is down (or shutting down) fails to find its group
 * coordinator (`KafkaJSGroupCoordinatorNotFound`, a non-retriable error), and then kafkajs gives
 * up on it for good. These are worth another try: the broker comes back.
 */
const OUTAGE_ERRORS = new Set([
  'KafkaJSGroupCoordinatorNotFound',
  'KafkaJSNoBrokerAvailableError',
  'KafkaJSConnectionError',
  'KafkaJSConnectionClosedError',
  'KafkaJSRequestTimeoutError',
  'KafkaJSBrokerNotFound',
  'KafkaJSNumberOfRetriesExceeded',
]);

/** Kafka error types (protocol codes) of a coordinator or leader that is moving or loading. */
const OUTAGE_TYPES = new Set([
  'COORDINATOR_NOT_AVAILABLE',
  'GROUP_COORDINATOR_NOT_AVAILABLE',
  'COORDINATOR_LOAD_IN_PROGRESS',
  'NOT_COORDINATOR',
  'NOT_COORDINATOR_FOR_GROUP',
  'LEADER_NOT_AVAILABLE',
  'NOT_LEADER_FOR_PARTITION',
  'REQUEST_TIMED_OUT',
]);

/** Whether a crash that kafkajs will not restart was an outage (the error or one of its causes). */
export function isOutageCrash(error: unknown): boolean {
  let current: unknown = error;
  // kafkajs nests a cause or two; a bound keeps a cyclic chain from looping.
  for (let depth = 0; depth < 8 && typeof current === 'object' && current !== null; depth += 1) {
    const { name, type, cause } = current as { name?: unknown; type?: unknown; cause?: unknown };
    if (typeof name === 'string' && OUTAGE_ERRORS.has(name)) return true;
    if (typeof type === 'string' && OUTAGE_TYPES.has(type)) return true;
    current = cause;
  }
  return false;
}

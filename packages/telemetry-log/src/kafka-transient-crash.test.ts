import {
  KafkaJSConnectionError,
  KafkaJSGroupCoordinatorNotFound,
  KafkaJSNonRetriableError,
  KafkaJSNumberOfRetriesExceeded,
  KafkaJSProtocolError,
} from 'kafkajs';
import { describe, expect, it } from 'vitest';

import { isOutageCrash } from './kafka-transient-crash.js';

describe('isOutageCrash', () => {
  it('the errors of a consumer restarting while the broker is away are outages', () => {
    // What the outage test saw: kafkajs's final word on a consumer that lost its broker.
    // kafkajs's types leave out the message its constructor reads.
    const NotFound = KafkaJSGroupCoordinatorNotFound as unknown as new (message: string) => Error;
    expect(isOutageCrash(new NotFound('Failed to find group coordinator'))).toBe(true);
    const refused = new KafkaJSConnectionError(
      'Connection error: connect ECONNREFUSED 127.0.0.1:9',
    );
    const wrapped = Object.assign(new KafkaJSNonRetriableError(refused), { cause: refused });
    expect(isOutageCrash(wrapped)).toBe(true);
    expect(
      isOutageCrash(
        new KafkaJSNumberOfRetriesExceeded(refused, { retryCount: 8, retryTime: 1000 }),
      ),
    ).toBe(true);
    const loading = new KafkaJSProtocolError('The coordinator is loading');
    Object.assign(loading, { type: 'COORDINATOR_LOAD_IN_PROGRESS' });
    expect(isOutageCrash(loading)).toBe(true);
  });

  it('anything else stays final: the process exits and is restarted', () => {
    const denied = new KafkaJSProtocolError('Not authorized to access group');
    Object.assign(denied, { type: 'GROUP_AUTHORIZATION_FAILED' });
    expect(isOutageCrash(denied)).toBe(false);
    expect(isOutageCrash(new TypeError('x is not a function'))).toBe(false);
    expect(isOutageCrash(undefined)).toBe(false);
    // A cause chain that loops ends.
    const a: { name: string; cause?: unknown } = { name: 'Error' };
    a.cause = a;
    expect(isOutageCrash(a)).toBe(false);
  });
});

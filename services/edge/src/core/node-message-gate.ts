import { RepeatedLog } from '@fleetwire/metrics';
import type { Logger } from 'pino';

import type { EdgeMetrics } from '../metrics.js';
import { NodeMessageError } from './node-messages.js';

/**
 * Where a message from another node is decoded: a malformed, unknown or too-new one is counted
 * and dropped (logged once a minute with a count), never thrown into a bus callback.
 */
export class NodeMessageGate {
  private readonly log: RepeatedLog<{ code: string; message: string; channel: string }>;

  constructor(
    private readonly metrics: EdgeMetrics,
    logger: Logger,
  ) {
    this.log = new RepeatedLog(
      (count, last) => logger.warn({ count, last }, 'messages from other nodes dropped'),
      60_000,
    );
  }

  accept<T>(decode: () => T, channel: string): T | undefined {
    try {
      return decode();
    } catch (error) {
      if (!(error instanceof NodeMessageError)) throw error;
      this.metrics.nodeMessagesDropped.inc({ reason: error.code });
      this.log.hit({ code: error.code, message: error.message, channel });
      return undefined;
    }
  }

  close(): void {
    this.log.flush();
  }
}

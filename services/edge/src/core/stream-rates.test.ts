import { identityFromClaims } from '@fleetwire/auth';
import { createRegistry } from '@fleetwire/metrics';
import { encodeStreamChunk } from '@fleetwire/protocol';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

import { EdgeMetrics } from '../metrics.js';
import { AbuseGuard } from './abuse-guard.js';
import type { Connection } from './connection.js';
import type { Fanout } from './fanout.js';
import type { Outbound } from './outbound.js';
import { createSession } from './session.js';
import { StreamRelay } from './streams.js';
import type { SubDevices } from './sub-devices.js';

/** A device streaming on a relay with the shipped limits, on a clock the test moves. */
function streamingDevice() {
  const metrics = new EdgeMetrics(createRegistry({ service: 'edge', node: 'test' }));
  const outbound = { send: () => true } as unknown as Outbound;
  const guard = new AbuseGuard(
    { rateCloseAfter: 20, maxProtocolErrors: 10 },
    outbound,
    metrics,
    pino({ level: 'silent' }),
  );
  const fanout = { publishStream: () => undefined, publishLive: () => undefined };
  const subDevices = { speaker: () => 'mic' } as unknown as SubDevices;
  const relay = new StreamRelay(fanout as unknown as Fanout, subDevices, outbound, guard, metrics, {
    streamBytesPerSec: 64 * 1024,
    streamBurstBytes: 128 * 1024,
  });
  const identity = identityFromClaims({ sub: 'mic', role: 'device', tenant: 'acme' });
  const session = createSession(
    { id: 1, identity, remote: 'test' },
    { ratePerSec: 50, rateBurst: 100 },
  );
  let closedWith: number | undefined;
  const conn = {
    session,
    transport: 'ws',
    end: (code: number) => {
      closedWith ??= code;
      session.closed = true;
    },
  } as unknown as Connection;
  relay.open(conn, { type: 'stream_open', channel: 1, name: 'audio' });
  return {
    chunk: (bytes: number) => relay.chunk(conn, encodeStreamChunk(1, new Uint8Array(bytes))),
    message: () => guard.admit(conn, performance.now()),
    closedWith: () => closedWith,
  };
}

describe('stream chunks over the byte rate and the message rate', () => {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['performance'] });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('a stream half again over its byte rate for two minutes stays open, its messages still pass', () => {
    const device = streamingDevice();
    // 256-byte chunks at 96 KiB/s (1.5 × 64 KiB/s), and 5 messages a second beside them.
    let refusedMessages = 0;
    for (let tick = 0; tick < 120 * 384; tick++) {
      vi.advanceTimersByTime(1000 / 384);
      device.chunk(256);
      if (tick % 77 === 0 && !device.message()) refusedMessages += 1;
    }
    expect(device.closedWith()).toBeUndefined();
    expect(refusedMessages).toBe(0);
  });

  it('a flood of chunk frames far over it is closed with 1008 within a second', () => {
    const device = streamingDevice();
    for (let n = 0; n < 100_000 && device.closedWith() === undefined; n++) {
      vi.advanceTimersByTime(0.01);
      device.chunk(1);
    }
    expect(device.closedWith()).toBe(1008);
  });
});

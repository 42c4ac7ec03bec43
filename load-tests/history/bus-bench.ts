import { percentile } from '@fleetwire/bench-kit';
import { RedisBus, type Retention } from '@fleetwire/bus';

/**
 * The bus alone, in this process, against one Redis: what the edge's outbox does with history
 * on (appends in batches of 64 per tenant, 32 batches in flight) against one PUBLISH per message
 * (256 in flight), and the round trip of a single message either way. Less at the mercy of a
 * busy machine than the end-to-end runs: no edge processes, no WebSocket clients.
 */
export interface BusFigures {
  publishPerSec: number;
  appendPerSec: number;
  publishRttP50: number;
  publishRttP99: number;
  appendRttP50: number;
  appendRttP99: number;
}

const RETENTION: Retention = { maxAgeMs: 300_000, maxCount: 1000, horizonMs: 300_000 };
const payload = Buffer.from(
  JSON.stringify({
    type: 'message',
    kind: 'telemetry',
    topic: 'devices/d1/telemetry',
    from: 'd1',
    ts: Date.now(),
    data: { t: 123456.789, temperature: 21.5 },
  }),
);

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[xs.length >> 1] ?? NaN;

async function throughput(bus: RedisBus, mode: 'publish' | 'append', n: number): Promise<number> {
  const started = performance.now();
  let inFlight: Promise<unknown>[] = [];
  if (mode === 'publish') {
    for (let i = 0; i < n; i++) {
      inFlight.push(bus.publish(`bench/devices/d${i % 20}/telemetry`, payload));
      if (inFlight.length >= 256) {
        await Promise.all(inFlight);
        inFlight = [];
      }
    }
  } else {
    for (let i = 0; i < n; i += 64) {
      const batch = Array.from({ length: Math.min(64, n - i) }, (_, k) => ({
        topic: `bench/devices/d${(i + k) % 20}/telemetry`,
        payload,
        retention: RETENTION,
      }));
      inFlight.push(bus.append(batch));
      if (inFlight.length >= 32) {
        await Promise.all(inFlight);
        inFlight = [];
      }
    }
  }
  await Promise.all(inFlight);
  return n / ((performance.now() - started) / 1000);
}

async function roundTrips(bus: RedisBus, mode: 'publish' | 'append', n: number): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < n; i++) {
    const started = performance.now();
    if (mode === 'publish') await bus.publish('bench/devices/d1/telemetry', payload);
    else await bus.append([{ topic: 'bench/devices/d1/telemetry', payload, retention: RETENTION }]);
    times.push(performance.now() - started);
  }
  return times.sort((a, b) => a - b);
}

/** Three rounds, off and on interleaved; medians. */
export async function busBench(redisUrl: string): Promise<BusFigures> {
  const bus = await RedisBus.connect({ url: redisUrl, nodeId: 'bus-bench', prefix: 'busbench:' });
  try {
    const rounds = { publish: [] as number[], append: [] as number[] };
    const rtts = { publish: [] as number[], append: [] as number[] };
    for (let round = 0; round < 3; round++) {
      for (const mode of ['publish', 'append'] as const) {
        rounds[mode].push(await throughput(bus, mode, 20_000));
        rtts[mode].push(...(await roundTrips(bus, mode, 1000)));
      }
    }
    rtts.publish.sort((a, b) => a - b);
    rtts.append.sort((a, b) => a - b);
    return {
      publishPerSec: median(rounds.publish),
      appendPerSec: median(rounds.append),
      publishRttP50: percentile(rtts.publish, 0.5),
      publishRttP99: percentile(rtts.publish, 0.99),
      appendRttP50: percentile(rtts.append, 0.5),
      appendRttP99: percentile(rtts.append, 0.99),
    };
  } finally {
    await bus.close();
  }
}

/**
 * End-to-end telemetry, Fleetwire only (the peers have no durable log): devices → edge (built,
 * with Redis and Kafka) → Kafka → ingest worker → PostgreSQL, all local (@fleetwire/testkit).
 * Offered rates step up; at each step every acked id must be in PostgreSQL. The result is the
 * acked rate of the highest step acked in full (≥ 99 %, at ≥ 90 % of the offered rate) with none
 * lost.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

import { LocalKafka, LocalPostgres, LocalRedis, freePort, waitFor } from '@fleetwire/testkit';
import { Kafka, logLevel } from 'kafkajs';
import pg from 'pg';

import { ClientProcess, newSourceAddress } from './clients.js';
import { SECRET } from './protocols.js';
import { HOST } from './servers.js';

export interface EndToEndStep {
  /** Offered rate, messages/s. */
  offered: number;
  /** Acked messages ÷ (last answer − first send): what the pipeline took. */
  ackedPerSec: number;
  sent: number;
  acked: number;
  nacked: number;
  /** Distinct acked-run ids found in PostgreSQL. */
  stored: number;
  /** Acked but not in PostgreSQL. */
  lost: number;
}
export interface EndToEndResult {
  bestRate: number;
  steps: EndToEndStep[];
}

const SERVICES = fileURLToPath(new URL('../../services/', import.meta.url));
const DEVICES = 50;

function run(main: string, args: string[], env: Record<string, string>): ChildProcess {
  return spawn(process.execPath, [`${SERVICES}${main}`, ...args], {
    env: { PATH: process.env['PATH'] ?? '', HOME: process.env['HOME'] ?? '', ...env },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
}

function exited(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => child.once('exit', (code) => resolve(code)));
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const done = exited(child);
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await done;
  clearTimeout(timer);
}

export async function endToEnd(quick: boolean): Promise<EndToEndResult> {
  const [redis, kafka, postgres] = await Promise.all([
    LocalRedis.launch(),
    LocalKafka.launch(),
    LocalPostgres.launch(),
  ]);
  const admin = new Kafka({ brokers: kafka.brokers, logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  await admin.createTopics({
    topics: ['telemetry', 'telemetry.dlq'].map((topic) => ({ topic, numPartitions: 3 })),
  });
  await admin.disconnect();
  const common = {
    FLEETWIRE_JWT_HS256_SECRET: SECRET,
    FLEETWIRE_LOG_LEVEL: 'warn',
    FLEETWIRE_KAFKA_BROKERS: kafka.brokers.join(','),
  };
  const ingestEnv = {
    ...common,
    FLEETWIRE_HOST: HOST,
    FLEETWIRE_PORT: String(await freePort()),
    FLEETWIRE_DATABASE_URL: postgres.url,
  };
  const migrate = run('ingest/dist/main.js', ['migrate'], ingestEnv);
  if ((await exited(migrate)) !== 0) throw new Error('ingest migrate failed');
  const ingest = run('ingest/dist/main.js', ['run'], ingestEnv);
  const edgePort = await freePort();
  const edge = run('edge/dist/main.js', [], {
    ...common,
    FLEETWIRE_HOST: HOST,
    FLEETWIRE_PORT: String(edgePort),
    // One thread, as the rows measured before FLEETWIRE_WORKERS existed.
    FLEETWIRE_WORKERS: '1',
    FLEETWIRE_REDIS_URL: redis.url,
    FLEETWIRE_RATE_PER_SEC: '1000000',
    FLEETWIRE_RATE_BURST: '1000000',
    FLEETWIRE_KAFKA_MAX_BUFFERED: '200000',
    FLEETWIRE_DRAIN_WINDOW_MS: '0',
  });
  const db = new pg.Client({ connectionString: postgres.url });
  await db.connect();
  const steps: EndToEndStep[] = [];
  let bestRate = 0;
  try {
    await waitFor('edge /readyz', async () => {
      const answer = await fetch(`http://${HOST}:${edgePort}/readyz`).catch(() => undefined);
      return answer?.ok === true;
    });
    const rates = quick ? [1_000, 3_000] : [2_000, 4_000, 8_000, 16_000, 24_000, 32_000];
    const seconds = quick ? 3 : 5;
    for (const [index, rate] of rates.entries()) {
      const prefix = `e2e-${index}`;
      const devices = new ClientProcess({
        kind: 'telemetry',
        protocol: 'fleetwire',
        host: HOST,
        port: edgePort,
        localAddress: newSourceAddress(),
        role: 'device',
        devices: DEVICES,
        subPrefix: prefix,
        ratePerSec: rate,
        seconds,
      });
      try {
        await devices.next('connected', 60_000);
        devices.send({ kind: 'go' });
        const answered = await devices.next('answered', seconds * 1000 + 60_000);
        // Every acked id must reach PostgreSQL; wait until the count stops short of it no more.
        const count = async (): Promise<number> =>
          Number(
            (
              await db.query<{ n: string }>(
                `select count(distinct msg_id) as n from telemetry where device_id like $1`,
                [`${prefix}-%`],
              )
            ).rows[0]?.n ?? 0,
          );
        let stored = 0;
        await waitFor(
          `${answered.acked} acked rows in PostgreSQL`,
          async () => (stored = await count()) >= answered.acked,
          30_000,
        ).catch(() => undefined);
        const step: EndToEndStep = {
          offered: rate,
          ackedPerSec: answered.acked / (answered.elapsedMs / 1000),
          sent: answered.sent,
          acked: answered.acked,
          nacked: answered.nacked,
          stored,
          lost: Math.max(0, answered.acked - stored),
        };
        steps.push(step);
        console.log(`  ${rate}/s offered: ${JSON.stringify(step)}`);
        // A step counts when the pipeline kept up: everything acked, at ≥ 90 % of the offered rate.
        const full = answered.acked >= 0.99 * answered.sent && step.ackedPerSec >= 0.9 * rate;
        if (!full || step.lost > 0) break;
        bestRate = step.ackedPerSec;
      } finally {
        await devices.stop();
      }
    }
  } finally {
    await db.end();
    await Promise.all([stop(edge), stop(ingest)]);
    await Promise.all([redis.dispose(), kafka.dispose(), postgres.dispose()]);
  }
  return { bestRate, steps };
}

import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { TelemetryStore, createPgliteClient, dayStart, migrate } from '@fleetwire/store';
import { afterEach, expect, it } from 'vitest';
import WebSocket from 'ws';

import { get, killChildren, runStart } from './test-support.js';

afterEach(killChildren);

const ROWS = 200_000;

/** `ROWS` readings of device d1 in today's partition, written before the process opens the dir. */
async function seed(data: string, day: number): Promise<void> {
  const client = await createPgliteClient(join(data, 'pglite'));
  try {
    await migrate(client);
    // The store's own insert creates the day's partition; the rest goes in as one statement.
    await new TelemetryStore(client).insertBatch([
      {
        tenant: 'default',
        deviceId: 'd1',
        msgId: 'm0',
        topic: 'devices/d1/telemetry',
        ts: day,
        data: { v: 0 },
      },
    ]);
    await client.query(
      `insert into telemetry (tenant, device_id, ts, msg_id, topic, data)
       select 'default', 'd1', to_timestamp(($1::bigint + g) / 1000.0), 'm' || g,
              'devices/d1/telemetry', jsonb_build_object('v', g)
       from generate_series(1, $2::int) g`,
      [day, ROWS],
    );
  } finally {
    await client.close();
  }
}

/** Pings a socket waits for (well within its rate limit) while a request is pending. */
const PINGS = 20;

/** A dashboard socket: how many pings (up to PINGS) got their pong while `busy` was pending. */
async function pongsDuring<T>(port: number, token: string, busy: () => Promise<T>) {
  const ws = new WebSocket(`ws://127.0.0.1:${port}/ws?token=${token}`);
  const frames: ((frame: Record<string, unknown>) => void)[] = [];
  ws.on('message', (raw) => frames.shift()?.(JSON.parse(String(raw)) as Record<string, unknown>));
  const next = () => new Promise<Record<string, unknown>>((resolve) => frames.push(resolve));
  const welcome = next();
  await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
  expect(await welcome).toMatchObject({ type: 'welcome' });
  let done = false;
  const answered = busy().finally(() => {
    done = true;
  });
  let pongs = 0;
  while (!done && pongs < PINGS) {
    const pong = next();
    ws.send(JSON.stringify({ type: 'ping', id: `p${pongs}` }));
    expect(await pong).toMatchObject({ type: 'pong', id: `p${pongs}` });
    pongs += 1;
  }
  ws.close();
  return { pongs, answer: await answered };
}

it('a long read of the embedded database does not hold the sockets: pings are answered meanwhile', async () => {
  const data = mkdtempSync(join(tmpdir(), 'fleetwire-long-read-'));
  const day = dayStart(Date.now());
  await seed(data, day);
  const running = runStart(['--data', data]);
  const { port, dashboardToken } = await running.started;
  // Every one of the ROWS readings in 200 one-second buckets: PGlite reads them all.
  const series = `/v1/devices/d1/series?from=${day}&to=${day + ROWS + 1}&bucket=1s&field=v`;
  const { pongs, answer } = await pongsDuring(port, dashboardToken, () =>
    get(port, series, dashboardToken),
  );
  expect(answer.status).toBe(200);
  const { buckets } = JSON.parse(answer.body) as { buckets: { count: number }[] };
  expect(buckets.reduce((sum, b) => sum + b.count, 0)).toBe(ROWS + 1);
  // With PGlite on the sockets' thread the loop answered none once the statement began (one or
  // two got in before it): here it kept answering.
  expect(pongs).toBe(PINGS);
}, 180_000);

import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

import { pythonVenv, waitFor, type PythonVenv } from '@fleetwire/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import {
  command,
  deviceToken,
  frontDoor,
  killChildren,
  serviceToken,
  startFleetwire,
  storedTelemetry,
  type Fleetwire,
} from '../test-support.js';

const DEVICE = fileURLToPath(new URL('./device.py', import.meta.url));
const REQUIREMENTS = readFileSync(new URL('./requirements.txt', import.meta.url), 'utf8')
  .split('\n')
  .filter((line) => line.trim() !== '');

type Line = Record<string, unknown> & { event: string };

/** device.py as a user runs it; its JSON lines arrive in order through until(). */
function runDevice(venv: PythonVenv, args: string[]) {
  const child = spawn(venv.python, [DEVICE, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: Line[] = [];
  const waiters: { event: string; resolve: (line: Line) => void }[] = [];
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  createInterface({ input: child.stdout }).on('line', (text) => {
    const line = JSON.parse(text) as Line;
    lines.push(line);
    const waiter = waiters.find((w) => w.event === line.event);
    if (waiter) {
      waiters.splice(waiters.indexOf(waiter), 1);
      waiter.resolve(line);
    }
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  let taken = 0;
  return {
    lines,
    exited,
    stderr: () => stderr,
    /** The next line with this event after the last one taken. */
    until(event: string): Promise<Line> {
      const index = lines.findIndex((l, i) => i >= taken && l.event === event);
      if (index >= 0) {
        taken = index + 1;
        return Promise.resolve(lines[index]!);
      }
      return new Promise((resolve) =>
        waiters.push({
          event,
          resolve: (line) => {
            taken = lines.length;
            resolve(line);
          },
        }),
      );
    },
  };
}

let venv: PythonVenv;
let fleetwire: Fleetwire;

beforeAll(async () => {
  [venv, fleetwire] = await Promise.all([
    pythonVenv({ packages: REQUIREMENTS, timeoutMs: 180_000 }),
    startFleetwire(),
  ]);
}, 200_000);
afterAll(killChildren);

describe('examples/python-device (websocket-client) against fleetwire start', () => {
  it('100 seed-shaped readings → 100 rows stored; commands answered, acked and nacked', async () => {
    const token = await deviceToken(fleetwire, 'sensor-001');
    const service = await serviceToken(fleetwire);
    const url = `ws://127.0.0.1:${fleetwire.port}/ws`;
    const device = runDevice(venv, [
      ...['--url', url, '--token', token, '--count', '100', '--interval', '0.05'],
    ]);
    expect(await device.until('connected')).toMatchObject({ device: 'sensor-001' });

    expect(await command(fleetwire, service, 'sensor-001', 'self_destruct')).toEqual({
      status: 409,
      body: {
        status: 'nack',
        type: 'nack',
        id: expect.any(String),
        reason: 'unsupported',
        message: "no command 'self_destruct' here",
      },
    });
    expect(
      await command(fleetwire, service, 'sensor-001', 'set_interval', { seconds: 0.01 }),
    ).toEqual({
      status: 200,
      body: { status: 'ack', type: 'ack', id: expect.any(String), result: { interval: 0.01 } },
    });

    expect(await device.until('done')).toEqual({
      event: 'done',
      device: 'sensor-001',
      sent: 100,
      acked: 100,
      commands: 2,
    });
    expect(await device.exited).toBe(0);
    expect(device.lines.filter((l) => l.event === 'error')).toEqual([]);

    const rows = await storedTelemetry(fleetwire, 'sensor-001');
    expect(rows).toHaveLength(100);
    expect(new Set(rows.map((r) => r.msgId)).size).toBe(100);
    for (const row of rows) {
      expect(row.data).toEqual({
        device_id: 'sensor-001',
        type: 'temperature_update',
        value: expect.any(Number),
        timestamp: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
        id: row.msgId,
      });
      // The device's own timestamp is the stored time.
      expect(row.ts).toBe(Date.parse(row.data['timestamp'] as string));
    }
  });

  it('reconnects with backoff across a server restart, and resends what was not acked', async () => {
    const door = await frontDoor(fleetwire.port);
    try {
      const token = await deviceToken(fleetwire, 'sensor-002');
      const url = `ws://127.0.0.1:${door.port}/ws`;
      const device = runDevice(venv, [
        ...['--url', url, '--token', token, '--count', '60', '--interval', '0.05'],
      ]);
      await device.until('connected');
      await waitFor(
        'ten readings stored',
        async () => (await storedTelemetry(fleetwire, 'sensor-002')).length >= 10,
        20_000,
      );

      expect(await fleetwire.stop()).toBe(0);
      expect(await device.until('disconnected')).toMatchObject({ code: 1012 });
      await device.until('reconnecting');
      fleetwire = await startFleetwire({ dataDir: fleetwire.dataDir });
      door.target = fleetwire.port;
      await device.until('connected');

      expect(await device.until('done')).toMatchObject({ sent: 60, acked: 60 });
      expect(await device.exited).toBe(0);
      // Every reading once: those resent after the restart were not stored twice.
      const rows = await storedTelemetry(fleetwire, 'sensor-002');
      expect(rows).toHaveLength(60);
      expect(new Set(rows.map((r) => r.msgId)).size).toBe(60);
    } finally {
      await door.close();
    }
  });
});

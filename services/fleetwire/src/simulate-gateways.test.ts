import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterEach, describe, expect, it } from 'vitest';

import { get, killChildren, runCli, runStart } from './test-support.js';

afterEach(() => killChildren());

describe('fleetwire simulate --gateways', () => {
  it('drives gateways with sub-devices; the device list shows each sub-device under its gateway', async () => {
    const data = mkdtempSync(join(tmpdir(), 'fleetwire-data-'));
    const running = runStart(['--data', data]);
    const { port } = await running.started;
    const result = await runCli([
      'simulate',
      '--data',
      data,
      '--url',
      `ws://127.0.0.1:${port}/ws`,
      '--gateways',
      '2',
      '--per-gateway',
      '3',
      '--rate',
      '5',
      '--seconds',
      '2',
    ]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toContain('simulating 0 devices and 2 gateways × 3 sub-devices');
    const summary =
      /^summary: devices (\d+)\/(\d+) connected · sent (\d+) · acked (\d+) · nacked (\d+) · errors (\d+)/m.exec(
        result.stdout,
      );
    expect(summary, result.stdout).not.toBeNull();
    const [, connected, devices, sent, acked, nacked, errors] = (summary as RegExpExecArray).map(
      Number,
    );
    expect([connected, devices, nacked, errors]).toEqual([6, 6, 0, 0]);
    expect(acked).toBeGreaterThan(0);
    expect(acked).toBeLessThanOrEqual(sent as number);

    const token = await runCli(['token', '--data', data, '--role', 'dashboard', '--sub', 'ops']);
    const list = await get(port, '/api/devices', token.stdout.trim());
    const { devices: listed } = JSON.parse(list.body) as {
      devices: { deviceId: string; gateway?: string }[];
    };
    const pairs = listed.map((d) => [d.deviceId, d.gateway ?? null]);
    for (const g of [1, 2]) {
      expect(pairs).toContainEqual([`sim-gw-${g}`, null]);
      for (const n of [1, 2, 3])
        expect(pairs).toContainEqual([`sim-gw-${g}-dev-${n}`, `sim-gw-${g}`]);
    }
    running.child.kill('SIGTERM');
    expect((await running.exited).code).toBe(0);
  }, 60_000);

  it('mints a gateway token naming its sub-devices, and refuses one that names none', async () => {
    const env = { FLEETWIRE_JWT_HS256_SECRET: 'a-test-secret-that-is-at-least-32-bytes' };
    const ok = await runCli(
      [
        'token',
        '--role',
        'gateway',
        '--sub',
        'gw-1',
        '--subdevices',
        'a,b',
        '--subdevice-pattern',
        'flat-*',
      ],
      env,
    );
    expect(ok.code, ok.stderr).toBe(0);
    const [, body] = ok.stdout.trim().split('.');
    expect(JSON.parse(Buffer.from(body as string, 'base64url').toString())).toMatchObject({
      role: 'gateway',
      subdevices: { ids: ['a', 'b'], pattern: 'flat-*' },
    });
    const none = await runCli(['token', '--role', 'gateway', '--sub', 'gw-1'], env);
    expect(none.code).toBe(1);
    expect(none.stderr).toContain('--subdevices');
  }, 30_000);
});

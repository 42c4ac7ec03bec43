import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { freePort, waitFor } from '@fleetwire/testkit';
import jwt from 'jsonwebtoken';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';

import { PACKAGE_DIR, childEnv, get, killChildren, runCli, runStart } from './test-support.js';

const JWT_SHAPE = /^[\w-]+\.[\w-]+\.[\w-]+$/;
afterEach(killChildren);

/** A device that sends telemetry and collects what the edge answers. */
async function connectDevice(port: number, token: string) {
  const ws = new WebSocket(`ws://127.0.0.1:${port}/ws?token=${token}`);
  const queue: Record<string, unknown>[] = [];
  const waiters: ((m: Record<string, unknown>) => void)[] = [];
  ws.on('message', (raw) => {
    const message = JSON.parse(String(raw)) as Record<string, unknown>;
    const waiter = waiters.shift();
    if (waiter) waiter(message);
    else queue.push(message);
  });
  const next = () =>
    queue.length > 0
      ? Promise.resolve(queue.shift()!)
      : new Promise<Record<string, unknown>>((resolve) => waiters.push(resolve));
  await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
  expect(await next()).toMatchObject({ type: 'welcome', sub: 'dev-1' });
  return {
    next,
    send: (message: unknown) => ws.send(JSON.stringify(message)),
    close: () => new Promise((resolve) => ws.once('close', resolve).close()),
  };
}

describe('fleetwire start (the embedded default)', () => {
  it('serves devices, stores telemetry in PGlite under --data, and keeps it and the key across a restart', async () => {
    const data = mkdtempSync(join(tmpdir(), 'fleetwire-data-'));
    const first = runStart(['--data', data]);
    const { port, dashboardToken, banner } = await first.started;

    // The key was made once, private to the user; the printed dashboard token verifies with it.
    const secret = readFileSync(join(data, 'secret'), 'utf8').trim();
    expect(secret).toMatch(/^[0-9a-f]{64}$/);
    expect(statSync(join(data, 'secret')).mode & 0o777).toBe(0o600);
    expect(jwt.verify(dashboardToken, secret)).toMatchObject({
      sub: 'dashboard',
      role: 'dashboard',
      tenant: 'default',
    });
    expect(banner).toContain(
      `  devices connect to   ws://127.0.0.1:${port}/ws?token=<device token>`,
    );
    expect(first.logs.find((l) => l['msg'] === 'migrations applied')).toMatchObject({
      applied: ['0001', '0002'],
    });

    // A device token from the CLI, signed with the same kept key.
    const minted = await runCli(['token', '--role', 'device', '--sub', 'dev-1', '--data', data]);
    expect(minted.code).toBe(0);
    expect(minted.stderr).toBe('');
    const deviceToken = minted.stdout.trimEnd();
    expect(deviceToken).toMatch(JWT_SHAPE);

    const device = await connectDevice(port, deviceToken);
    for (const [id, temperature] of [
      ['m1', 20.5],
      ['m2', 21],
      ['m3', 21.5],
    ] as const) {
      device.send({ type: 'telemetry', id, data: { temperature, humidity: 40 } });
    }
    expect([await device.next(), await device.next(), await device.next()]).toEqual([
      { type: 'ack', id: 'm1' },
      { type: 'ack', id: 'm2' },
      { type: 'ack', id: 'm3' },
    ]);
    await first.logged((l) => l['msg'] === 'batch stored' && l['position'] === 3);

    // The read API on the same port, the same paths as services/ingest.
    const history = await get(
      port,
      `/v1/devices/dev-1/telemetry?from=0&to=${Date.now() + 60_000}`,
      dashboardToken,
    );
    expect(history.status).toBe(200);
    expect(history.type).toBe('application/json');
    const page = JSON.parse(history.body) as { items: Record<string, unknown>[]; nextCursor: null };
    expect(page.nextCursor).toBeNull();
    expect(page.items.map((i) => [i['msgId'], i['topic'], i['data']])).toEqual([
      ['m1', 'devices/dev-1/telemetry', { temperature: 20.5, humidity: 40 }],
      ['m2', 'devices/dev-1/telemetry', { temperature: 21, humidity: 40 }],
      ['m3', 'devices/dev-1/telemetry', { temperature: 21.5, humidity: 40 }],
    ]);
    expect(await get(port, '/v1/latest', deviceToken)).toMatchObject({
      status: 403,
      body: '{"error":{"code":"role_not_allowed","message":"role device may not read telemetry"}}',
    });

    const devices = await get(port, '/api/devices', dashboardToken);
    expect(devices.status).toBe(200);
    const listed = JSON.parse(devices.body) as { devices: Record<string, unknown>[] };
    expect(listed.devices).toHaveLength(1);
    expect(listed.devices[0]).toMatchObject({ deviceId: 'dev-1', online: true, node: 'embedded' });

    // Acked but maybe not yet in the store when SIGTERM comes: the shutdown writes it.
    device.send({ type: 'telemetry', id: 'm4', data: { temperature: 22 } });
    expect(await device.next()).toEqual({ type: 'ack', id: 'm4' });
    first.child.kill('SIGTERM');
    expect((await first.exited).code).toBe(0);
    expect(first.logs.find((l) => l['msg'] === 'telemetry log written to the store')).toMatchObject(
      {
        records: 4,
      },
    );

    // Same data dir again: same key (the old dashboard token works), the rows are still there.
    const second = runStart(['--data', data]);
    const again = await second.started;
    expect(readFileSync(join(data, 'secret'), 'utf8').trim()).toBe(secret);
    expect(second.logs.find((l) => l['msg'] === 'migrations applied')).toMatchObject({
      applied: [],
    });
    const kept = await get(
      again.port,
      `/v1/devices/dev-1/telemetry?from=0&to=${Date.now() + 60_000}`,
      dashboardToken,
    );
    expect(kept.status).toBe(200);
    expect(JSON.parse(kept.body).items.map((i: { msgId: string }) => i.msgId)).toEqual([
      'm1',
      'm2',
      'm3',
      'm4',
    ]);
    // Presence is live state: nobody is connected to the new process.
    expect((await get(again.port, '/api/devices', dashboardToken)).body).toBe('{"devices":[]}');
    second.child.kill('SIGTERM');
    expect((await second.exited).code).toBe(0);
  }, 60_000);

  it('a crash (SIGKILL) loses nothing that was acked: acks wait for PGlite', async () => {
    const data = mkdtempSync(join(tmpdir(), 'fleetwire-data-'));
    const first = runStart(['--data', data]);
    const { port, dashboardToken } = await first.started;
    const minted = await runCli(['token', '--role', 'device', '--sub', 'dev-1', '--data', data]);
    const device = await connectDevice(port, minted.stdout.trim());
    const ids = Array.from({ length: 50 }, (_, i) => `k${i}`);
    for (const id of ids) device.send({ type: 'telemetry', id, data: { n: id } });
    const acks = [];
    while (acks.length < ids.length) acks.push(await device.next());
    expect(acks).toEqual(ids.map((id) => ({ type: 'ack', id })));
    first.child.kill('SIGKILL');
    await first.exited;

    const second = runStart(['--data', data]);
    const again = await second.started;
    const kept = await get(
      again.port,
      `/v1/devices/dev-1/telemetry?from=0&to=${Date.now() + 60_000}&limit=1000`,
      dashboardToken,
    );
    expect(
      JSON.parse(kept.body)
        .items.map((i: { msgId: string }) => i.msgId)
        .sort(),
    ).toEqual([...ids].sort());
    second.child.kill('SIGTERM');
    expect((await second.exited).code).toBe(0);
  }, 60_000);

  it('refuses a data dir another running fleetwire holds, saying what to do', async () => {
    const data = mkdtempSync(join(tmpdir(), 'fleetwire-data-'));
    const first = runStart(['--data', data]);
    await first.started;
    const second = await runStart(['--data', data]).exited;
    expect(second.code).toBe(1);
    expect(second.stderr).toBe(
      `fleetwire: ${data} is in use by another fleetwire (pid ${first.child.pid}): stop it first, or start this one with --data <another dir>\n`,
    );
    first.child.kill('SIGTERM');
    expect((await first.exited).code).toBe(0);
  }, 60_000);

  it('refuses a port another process holds, saying what to do', async () => {
    const holder = createServer();
    await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
    const { port } = holder.address() as AddressInfo;
    const data = mkdtempSync(join(tmpdir(), 'fleetwire-data-'));
    const refused = await runStart(['--data', data], { FLEETWIRE_PORT: String(port) }).exited;
    holder.close();
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(
      'another process may hold the port: stop it, or set FLEETWIRE_PORT (0 picks a free one)',
    );
  }, 60_000);

  it('--simulate 2 connects two simulated devices; they stop with the process', async () => {
    const data = mkdtempSync(join(tmpdir(), 'fleetwire-data-'));
    const running = runStart(['--data', data, '--simulate', '2']);
    const { port, dashboardToken, banner } = await running.started;
    expect(banner).toContain('  simulating 2 device(s) in this process');
    await running.logged((l) => l['msg'] === 'connected' && l['sub'] === 'sim-1');
    await running.logged((l) => l['msg'] === 'connected' && l['sub'] === 'sim-2');
    const listed = JSON.parse((await get(port, '/api/devices', dashboardToken)).body) as {
      devices: { deviceId: string; online: boolean }[];
    };
    expect(listed.devices.map((d) => [d.deviceId, d.online])).toEqual([
      ['sim-1', true],
      ['sim-2', true],
    ]);
    running.child.kill('SIGINT');
    expect((await running.exited).code).toBe(0);
    expect(running.logs.find((l) => l['msg'] === 'simulation stopped')).toMatchObject({
      devices: 2,
      commands: 0,
    });
  }, 60_000);
});

describe('Ctrl-C', () => {
  it('on `npm start` (SIGINT to the whole process group, as a terminal sends it) exits 0 quietly', async () => {
    const data = mkdtempSync(join(tmpdir(), 'fleetwire-data-'));
    // The package's start script, run by npm through `sh -c` as `npm start` runs the root's.
    const child = spawn('npm', ['start', '--silent', '--', '--data', data], {
      cwd: PACKAGE_DIR,
      detached: true,
      env: childEnv({ FLEETWIRE_PORT: '0', npm_config_update_notifier: 'false' }),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let interrupted = false;
    // Ctrl-C the moment the banner is out (not at the next poll): a signal that came before the
    // server's handlers killed it (exit 128, one run in two this way).
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      if (!interrupted && stdout.includes('Fleetwire is running.')) {
        interrupted = true;
        process.kill(-child.pid!, 'SIGINT');
      }
    });
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    try {
      await waitFor('the start banner', () => interrupted, 45_000);
      // With stderr, so a failure says why (the server process's own end is printed there).
      expect({ code: await exited, stderr }).toEqual({ code: 0, stderr: expect.any(String) });
      expect(stderr).not.toMatch(/ELIFECYCLE|ERR!|Command failed|ended by/);
    } finally {
      if (child.exitCode === null) process.kill(-child.pid!, 'SIGKILL');
    }
  }, 60_000);
});

describe('fleetwire simulate', () => {
  it('drives devices against a running edge and prints a summary with ack latency', async () => {
    const data = mkdtempSync(join(tmpdir(), 'fleetwire-data-'));
    const running = runStart(['--data', data]);
    const { port } = await running.started;
    const result = await runCli([
      'simulate',
      '--data',
      data,
      '--url',
      `ws://127.0.0.1:${port}/ws`,
      '--devices',
      '3',
      '--rate',
      '5',
      '--seconds',
      '2',
    ]);
    expect(result.code).toBe(0);
    expect(result.stderr).toContain(
      `simulating 3 devices × 5 msg/s against ws://127.0.0.1:${port}/ws`,
    );
    const summary =
      /^summary: devices (\d+)\/3 connected · sent (\d+) · acked (\d+) · nacked (\d+) · errors (\d+) · commands 0 · ack p50 ([\d.]+) ms p99 ([\d.]+) ms$/m.exec(
        result.stdout,
      );
    expect(summary, result.stdout).not.toBeNull();
    const [, connected, sent, acked, nacked, errors] = (summary as RegExpExecArray).map(Number);
    expect([connected, nacked, errors]).toEqual([3, 0, 0]);
    expect(acked).toBeGreaterThan(0);
    expect(acked).toBeLessThanOrEqual(sent as number);
    running.child.kill('SIGTERM');
    expect((await running.exited).code).toBe(0);
  }, 60_000);

  it('finds the server on FLEETWIRE_PORT when no --url is given', async () => {
    const data = mkdtempSync(join(tmpdir(), 'fleetwire-data-'));
    const running = runStart(['--data', data]);
    const { port } = await running.started;
    const result = await runCli(
      ['simulate', '--data', data, '--devices', '1', '--rate', '5', '--seconds', '1'],
      { FLEETWIRE_PORT: String(port) },
    );
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toContain(`against ws://127.0.0.1:${port}/ws`);
    expect(result.stdout).toMatch(/^summary: devices 1\/1 connected · sent [1-9]/m);
    running.child.kill('SIGTERM');
    expect((await running.exited).code).toBe(0);
  }, 60_000);

  it('exits 1 at once, saying so, when nothing listens there', async () => {
    const data = mkdtempSync(join(tmpdir(), 'fleetwire-data-'));
    const free = await freePort();
    const result = await runCli(['simulate', '--data', data, '--devices', '2'], {
      FLEETWIRE_PORT: String(free),
      FLEETWIRE_JWT_HS256_SECRET: 'a-test-secret-that-is-at-least-32-bytes',
      FLEETWIRE_CLI: 'fleetwire',
    });
    expect(result).toEqual({
      code: 1,
      stdout: '',
      stderr:
        `fleetwire: cannot reach the server at ws://127.0.0.1:${free}/ws: connect ECONNREFUSED 127.0.0.1:${free}\n` +
        '  → is Fleetwire running there? Start it with `npm start`, or point --url (or FLEETWIRE_PORT) at it\n',
    });
  }, 30_000);

  it('exits 1 saying the server refused the tokens when they are signed with another key', async () => {
    const data = mkdtempSync(join(tmpdir(), 'fleetwire-data-'));
    const running = runStart(['--data', data]);
    const { port } = await running.started;
    const result = await runCli(['simulate', '--url', `ws://127.0.0.1:${port}/ws`], {
      FLEETWIRE_JWT_HS256_SECRET: 'another-secret-that-is-at-least-32-bytes',
      FLEETWIRE_CLI: 'fleetwire',
    });
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(
      `fleetwire: the server at ws://127.0.0.1:${port}/ws refused the device token: HTTP 401 token_bad_signature (invalid signature)\n` +
        '  → mint with the key of the server you simulate against: --data <its data dir>, or its FLEETWIRE_JWT_HS256_SECRET\n',
    );
    running.child.kill('SIGTERM');
    expect((await running.exited).code).toBe(0);
  }, 60_000);

  it('refuses bad options with what to do', async () => {
    const result = await runCli(['simulate', '--devices', 'many']);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('simulate: --devices many: a number from 0 to 5000');
  }, 30_000);
});

describe('fleetwire token', () => {
  const secret = 'a-test-secret-that-is-at-least-32-bytes';

  it('prints one token, signed with the configured key, with the asked claims', async () => {
    const result = await runCli(
      ['token', '--role', 'service', '--sub', 'billing', '--tenant', 'acme', '--ttl', '2h'],
      { FLEETWIRE_JWT_HS256_SECRET: secret, FLEETWIRE_JWT_ISSUER: 'fleetwire-test' },
    );
    expect(result.code).toBe(0);
    expect(result.stderr).toBe('');
    expect(result.stdout).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+\n$/);
    const claims = jwt.verify(result.stdout.trim(), secret, {
      algorithms: ['HS256'],
      issuer: 'fleetwire-test',
    }) as jwt.JwtPayload;
    expect({ ...claims, iat: undefined, exp: undefined }).toEqual({
      sub: 'billing',
      role: 'service',
      tenant: 'acme',
      iss: 'fleetwire-test',
      iat: undefined,
      exp: undefined,
    });
    expect(claims.exp! - claims.iat!).toBe(7200);
  }, 30_000);

  it.each([
    [
      ['--role', 'admin', '--sub', 'x'],
      'fleetwire: --role admin: must be one of device, gateway, dashboard, service\n  → run `fleetwire help` for the commands and options\n',
    ],
    [
      ['--role', 'device', '--sub', 'has space'],
      'fleetwire: --sub "has space": letters, digits and _ . : @ - only\n  → run `fleetwire help` for the commands and options\n',
    ],
    [
      ['--role', 'device', '--sub', 'd', '--ttl', 'forever'],
      'fleetwire: --ttl forever: use a number and a unit: 30m, 1h, 7d\n  → run `fleetwire help` for the commands and options\n',
    ],
    [
      ['--role', 'device'],
      'fleetwire: token: --sub is required (the device or user id)\n  → run `fleetwire help` for the commands and options\n',
    ],
  ])(
    '%j → exit 1 and what is wrong',
    async (args, message) => {
      const result = await runCli(['token', ...args], {
        FLEETWIRE_JWT_HS256_SECRET: secret,
        FLEETWIRE_CLI: 'fleetwire',
      });
      expect(result).toEqual({ code: 1, stdout: '', stderr: message });
    },
    30_000,
  );

  it('without a key, says how to get one', async () => {
    const data = mkdtempSync(join(tmpdir(), 'fleetwire-empty-'));
    const result = await runCli(['token', '--role', 'device', '--sub', 'd', '--data', data]);
    expect(result).toEqual({
      code: 1,
      stdout: '',
      stderr:
        `fleetwire: no key: no FLEETWIRE_JWT_HS256_SECRET and no ${join(data, 'secret')}. ` +
        'Run `fleetwire start` once (it creates the key), or set FLEETWIRE_JWT_HS256_SECRET ' +
        '(at least 32 bytes), or point --data at the data dir of a running Fleetwire.\n',
    });
  }, 30_000);
});

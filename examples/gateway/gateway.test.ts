import { fileURLToPath } from 'node:url';

import { waitFor } from '@fleetwire/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import {
  api,
  runExample,
  startEdge,
  stopAll,
  type Example,
  type RunningEdge,
} from '../test-edge.js';

const DIR = fileURLToPath(new URL('.', import.meta.url));
const SUBS = ['lamp-1', 'thermostat-1', 'lock-1'];

let edge: RunningEdge;
let gateway: Example;
let ops: string;

async function devices(): Promise<Record<string, { online: boolean; gateway?: string }>> {
  const list = await api(edge.port, 'GET', '/api/devices', ops);
  const { devices: listed } = list.body as {
    devices: { deviceId: string; online: boolean; gateway?: string }[];
  };
  return Object.fromEntries(listed.map((d) => [d.deviceId, d]));
}

beforeAll(async () => {
  edge = await startEdge();
  const token = await edge.token('gateway', 'home-gw', '--subdevices', SUBS.join(','));
  ops = await edge.token('service', 'ops');
  gateway = runExample(DIR, 'gateway.ts', { FLEETWIRE_URL: edge.url, FLEETWIRE_TOKEN: token });
  await gateway.printed((line) => line.startsWith('gateway ready'));
}, 60_000);

afterAll(() => stopAll());

describe('examples/gateway against a real edge', () => {
  it('its three sub-devices are listed under the gateway, online', async () => {
    const listed = await devices();
    for (const sub of SUBS) expect(listed[sub]).toMatchObject({ online: true, gateway: 'home-gw' });
    expect(listed['home-gw']).toMatchObject({ online: true });
  });

  it('commands to each sub-device are answered by it, through the gateway', async () => {
    const command = (target: string, name: string, params?: unknown) =>
      api(edge.port, 'POST', '/api/commands', ops, {
        target,
        name,
        ...(params === undefined ? {} : { params }),
      });
    expect(await command('lamp-1', 'on')).toEqual({
      status: 200,
      body: expect.objectContaining({ status: 'ack', result: { on: true, watts: 9 } }),
    });
    expect(await command('thermostat-1', 'set', { target: 23 })).toEqual({
      status: 200,
      body: expect.objectContaining({ status: 'ack', result: { target: 23 } }),
    });
    expect(await command('lock-1', 'unlock')).toEqual({
      status: 200,
      body: expect.objectContaining({ status: 'ack', result: { locked: false } }),
    });
    const refused = await command('thermostat-1', 'set', { target: 99 });
    expect(refused).toEqual({
      status: 409,
      body: expect.objectContaining({
        status: 'nack',
        reason: 'rejected',
        message: 'target must be a number of °C from 5 to 30',
      }),
    });
  });

  it('its telemetry is stored under each sub-device’s own id', async () => {
    const since = Date.now() - 60_000;
    const stored = async (device: string) => {
      const answer = await api(
        edge.port,
        'GET',
        `/v1/devices/${device}/telemetry?from=${since}&to=${Date.now() + 60_000}`,
        ops,
      );
      return answer.body as { items?: unknown[] };
    };
    await waitFor('the thermostat’s telemetry stored', async () => {
      const thermostat = await stored('thermostat-1');
      return (thermostat.items?.length ?? 0) > 0;
    });
    expect((await stored('lamp-1')).items?.length).toBeGreaterThan(0);
    expect((await stored('home-gw')).items ?? []).toEqual([]);
  }, 30_000);

  it('stopping the gateway takes its sub-devices offline', async () => {
    gateway.child.kill('SIGTERM');
    expect((await gateway.exited).stdout).toContain('gateway stopped');
    await waitFor(
      'the gateway offline',
      async () => (await devices())['home-gw']?.online === false,
    );
    const listed = await devices();
    for (const sub of SUBS)
      expect(listed[sub]).toMatchObject({ online: false, gateway: 'home-gw' });
  });
});

import { fileURLToPath } from 'node:url';

import { waitFor } from '@fleetwire/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import {
  command,
  http,
  killChildren,
  runExample,
  startFleetwire,
  storedTelemetry,
  token,
  type Example,
  type Fleetwire,
} from '../test-support.js';

const DIR = fileURLToPath(new URL('.', import.meta.url));
const SUBS = ['lamp-1', 'thermostat-1', 'lock-1'];

let fleetwire: Fleetwire;
let gateway: Example;
let ops: string;

async function devices(): Promise<Record<string, { online: boolean; gateway?: string }>> {
  const list = await http(fleetwire.port, 'GET', '/api/devices', ops);
  const { devices: listed } = JSON.parse(list.body) as {
    devices: { deviceId: string; online: boolean; gateway?: string }[];
  };
  return Object.fromEntries(listed.map((d) => [d.deviceId, d]));
}

beforeAll(async () => {
  fleetwire = await startFleetwire();
  const gatewayToken = await token(fleetwire, 'gateway', 'home-gw', '--subdevices', SUBS.join(','));
  ops = await token(fleetwire, 'service', 'ops');
  gateway = runExample(DIR, 'gateway.ts', {
    FLEETWIRE_URL: `ws://127.0.0.1:${fleetwire.port}/ws`,
    FLEETWIRE_TOKEN: gatewayToken,
  });
  await gateway.printed((line) => line.startsWith('gateway ready'));
}, 60_000);

afterAll(async () => {
  await fleetwire.stop();
  killChildren();
});

describe('examples/gateway against a real fleetwire', () => {
  it('its three sub-devices are listed under the gateway, online', async () => {
    const listed = await devices();
    for (const sub of SUBS) expect(listed[sub]).toMatchObject({ online: true, gateway: 'home-gw' });
    expect(listed['home-gw']).toMatchObject({ online: true });
  });

  it('commands to each sub-device are answered by it, through the gateway', async () => {
    expect(await command(fleetwire, ops, 'lamp-1', 'on')).toEqual({
      status: 200,
      body: expect.objectContaining({ status: 'ack', result: { on: true, watts: 9 } }),
    });
    expect(await command(fleetwire, ops, 'thermostat-1', 'set', { target: 23 })).toEqual({
      status: 200,
      body: expect.objectContaining({ status: 'ack', result: { target: 23 } }),
    });
    expect(await command(fleetwire, ops, 'lock-1', 'unlock')).toEqual({
      status: 200,
      body: expect.objectContaining({ status: 'ack', result: { locked: false } }),
    });
    expect(await command(fleetwire, ops, 'thermostat-1', 'set', { target: 99 })).toEqual({
      status: 409,
      body: expect.objectContaining({
        status: 'nack',
        reason: 'rejected',
        message: 'target must be a number of °C from 5 to 30',
      }),
    });
  });

  it('its telemetry is stored under each sub-device’s own id', async () => {
    await waitFor(
      'the thermostat’s and the lamp’s telemetry stored',
      async () =>
        (await storedTelemetry(fleetwire, 'thermostat-1')).length > 0 &&
        (await storedTelemetry(fleetwire, 'lamp-1')).length > 0,
    );
    expect(await storedTelemetry(fleetwire, 'home-gw')).toEqual([]);
  });

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

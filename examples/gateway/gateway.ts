/**
 * A home gateway: one WebSocket to Fleetwire for a lamp, a thermostat and a door lock that
 * cannot reach the internet themselves (Zigbee, BLE, a serial bus behind the gateway). Each is
 * a device of its own to Fleetwire: its own presence, telemetry, status and commands.
 *
 *   FLEETWIRE_URL=ws://127.0.0.1:8080/ws FLEETWIRE_TOKEN=<gateway token> \
 *     node --conditions=@fleetwire/source --import tsx gateway.ts
 *
 * The token must name the three ids (see README.md).
 */
import { FleetwireClient, type WebSocketConstructor } from '@fleetwire/client';
import WebSocket from 'ws';

const url = process.env['FLEETWIRE_URL'] ?? 'ws://127.0.0.1:8080/ws';
const token = process.env['FLEETWIRE_TOKEN'];
if (!token) {
  console.error('set FLEETWIRE_TOKEN to a gateway token (see README.md)');
  process.exit(2);
}

// What the gateway knows of its devices; on real hardware, read from the radio.
const lamp = { on: false, watts: 0 };
const thermostat = { target: 21, celsius: 19.5 };
const lock = { locked: true, battery: 87 };

const client = new FleetwireClient({
  url,
  token,
  WebSocket: WebSocket as unknown as WebSocketConstructor,
});
client.on('state', (state) => console.log(`connection ${state}`));
client.on('serverError', (error) => console.error(`server: ${error.code}: ${error.message}`));
await client.connect();

const lampDevice = client.subDevice('lamp-1');
const thermostatDevice = client.subDevice('thermostat-1');
const lockDevice = client.subDevice('lock-1');

lampDevice.onCommand('on', () => {
  Object.assign(lamp, { on: true, watts: 9 });
  void lampDevice.status({ ...lamp });
  return lamp;
});
lampDevice.onCommand('off', () => {
  Object.assign(lamp, { on: false, watts: 0 });
  void lampDevice.status({ ...lamp });
  return lamp;
});
thermostatDevice.onCommand('set', ({ params }) => {
  const target = (params as { target?: unknown } | undefined)?.target;
  if (typeof target !== 'number' || target < 5 || target > 30) {
    throw new Error('target must be a number of °C from 5 to 30');
  }
  thermostat.target = target;
  return { target };
});
lockDevice.onCommand('unlock', () => {
  lock.locked = false;
  void lockDevice.event('unlocked', { by: 'remote' });
  return { locked: false };
});
lockDevice.onCommand('lock', () => {
  lock.locked = true;
  void lockDevice.event('locked', { by: 'remote' });
  return { locked: true };
});

await Promise.all([lampDevice.attached, thermostatDevice.attached, lockDevice.attached]);
await Promise.all([
  lampDevice.status({ ...lamp }),
  thermostatDevice.status({ target: thermostat.target }),
  lockDevice.status({ locked: lock.locked, battery: lock.battery }),
]);
console.log('gateway ready: lamp-1, thermostat-1, lock-1 attached');

// Every second: each device's telemetry, kept until the edge acked it (stored).
const timer = setInterval(() => {
  thermostat.celsius += (thermostat.target - thermostat.celsius) * 0.1;
  const celsius = Math.round(thermostat.celsius * 10) / 10;
  void thermostatDevice.telemetry({ celsius }, { reliable: true }).catch(() => undefined);
  void lampDevice.telemetry({ watts: lamp.watts }, { reliable: true }).catch(() => undefined);
}, 1000);

// Leaving says so: the sub-devices go offline at once instead of when the socket times out.
const stop = async (): Promise<void> => {
  clearInterval(timer);
  await Promise.all([lampDevice.detach(), thermostatDevice.detach(), lockDevice.detach()]).catch(
    () => undefined,
  );
  client.close();
  console.log('gateway stopped');
};
process.once('SIGINT', () => void stop());
process.once('SIGTERM', () => void stop());

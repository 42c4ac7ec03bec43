import { execFile, spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

import { FleetwireClient, type WebSocketConstructor } from '@fleetwire/client';
import { waitFor } from '@fleetwire/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';

import { deviceToken, killChildren, startFleetwire, type Fleetwire } from '../test-support.js';

/**
 * The sketch, unchanged, built for this machine with g++ against stand-ins for the Arduino core,
 * WiFi and WebSocketsClient (host/) and the real ArduinoJson (host/vendor/), then driven against
 * `fleetwire start`: its WebSocketsClient calls are bridged to a real WebSocket (see
 * host/WebSocketsClient.h), so the edge checks every frame the sketch sends, and the sketch
 * parses every frame the edge sends. Motor pins are read from the stand-in's pin writes.
 */
const HERE = fileURLToPath(new URL('.', import.meta.url));
const run = promisify(execFile);

const LEFT = { pwm: 14, in1: 27, in2: 26 };
const RIGHT = { pwm: 32, in1: 25, in2: 33 };

async function build(defines: Record<string, string | number>): Promise<string> {
  const binary = join(mkdtempSync(join(tmpdir(), 'fleetwire-car-')), 'car');
  const flags = Object.entries(defines).map(([name, value]) =>
    typeof value === 'number' ? `-D${name}=${value}` : `-D${name}=${JSON.stringify(value)}`,
  );
  await run(
    'g++',
    [
      ...['-std=gnu++17', '-Wall', '-Wextra', '-Werror', '-O1'],
      ...['-I', join(HERE, 'host'), '-I', join(HERE, 'host', 'vendor')],
      ...flags,
      join(HERE, 'host', 'harness.cpp'),
      ...['-o', binary],
    ],
    { timeout: 120_000 },
  ).catch((error: Error & { stderr?: string }) => {
    throw new Error(
      `g++ could not build the sketch (apt-get install g++): ${error.stderr ?? error.message}`,
    );
  });
  return binary;
}

interface Begin {
  host: string;
  port: number;
  url: string;
  protocol: string;
  headers: string;
}

/** The built sketch, with its WebSocketsClient bridged to a real WebSocket. */
class Car {
  readonly begins: Begin[] = [];
  /** Every frame the sketch sent, parsed; and every frame the edge sent it. */
  readonly sent: Record<string, unknown>[] = [];
  readonly received: Record<string, unknown>[] = [];
  readonly pins = new Map<number, number>();
  socket: WebSocket | undefined;
  private readonly child: ChildProcessWithoutNullStreams;

  constructor(binary: string) {
    this.child = spawn(binary, [], { stdio: ['pipe', 'pipe', 'pipe'] });
    this.child.stderr.resume();
    createInterface({ input: this.child.stdout }).on('line', (line) => this.line(line));
  }

  private line(line: string): void {
    const [kind, ...rest] = line.split(' ');
    const text = rest.join(' ');
    if (kind === 'DIGITAL' || kind === 'PWM') {
      this.pins.set(Number(rest[0]), Number(rest[1]));
    } else if (kind === 'TEXT') {
      this.sent.push(JSON.parse(text) as Record<string, unknown>);
      this.socket?.send(text);
    } else if (kind === 'BEGIN') {
      const begin = JSON.parse(text) as Begin;
      this.begins.push(begin);
      const [name, value] = begin.headers.split(': ') as [string, string];
      const ws = new WebSocket(`ws://${begin.host}:${begin.port}${begin.url}`, [begin.protocol], {
        headers: { [name]: value },
      });
      this.socket = ws;
      ws.on('open', () => this.tell('CONNECTED'));
      ws.on('message', (data) => {
        this.received.push(JSON.parse(String(data)) as Record<string, unknown>);
        this.tell(`TEXT ${String(data)}`);
      });
      ws.on('error', () => undefined);
      ws.on('close', () => this.tell('DISCONNECTED'));
    }
  }

  private tell(line: string): void {
    if (this.child.exitCode === null) this.child.stdin.write(`${line}\n`);
  }

  /** [left, right] as -1 (back), 0 or 1 (forward), with the PWM duty 0–255 of each. */
  motors(): { left: number; right: number; duty: [number, number] } {
    const direction = (m: typeof LEFT) => (this.pins.get(m.in1) ?? 0) - (this.pins.get(m.in2) ?? 0);
    return {
      left: direction(LEFT),
      right: direction(RIGHT),
      duty: [this.pins.get(LEFT.pwm) ?? -1, this.pins.get(RIGHT.pwm) ?? -1],
    };
  }

  stop(): void {
    this.socket?.terminate();
    this.child.stdin.end();
  }
}

let fleetwire: Fleetwire;
let car: Car;
let dashboard: FleetwireClient;
/** What the dashboard received on devices/car-1/#. */
const telemetry: { kind: string; topic: string; from: string; data: unknown }[] = [];

beforeAll(async () => {
  fleetwire = await startFleetwire();
  const token = await deviceToken(fleetwire, 'car-1');
  const binary = await build({
    FLEETWIRE_HOST: '127.0.0.1',
    FLEETWIRE_PORT: fleetwire.port,
    DEVICE_ID: 'car-1',
    DEVICE_TOKEN: token,
    TELEMETRY_INTERVAL_MS: 100,
  });
  dashboard = new FleetwireClient({
    url: `ws://127.0.0.1:${fleetwire.port}/ws`,
    token: fleetwire.dashboardToken,
    WebSocket: WebSocket as unknown as WebSocketConstructor,
  });
  dashboard.on('message', (message) => telemetry.push(message));
  await dashboard.connect();
  await dashboard.subscribe(['devices/car-1/#']);
  car = new Car(binary);
}, 180_000);

afterAll(() => {
  car?.stop();
  dashboard?.close();
  killChildren();
});

describe('examples/esp32-robot-car: the sketch against fleetwire start', () => {
  it('connects as the README says: /ws, subprotocol fleetwire.v1, token in the Authorization header', async () => {
    await waitFor('the car online', () => car.received.some((m) => m['type'] === 'welcome'));
    expect(car.begins[0]).toEqual({
      host: '127.0.0.1',
      port: fleetwire.port,
      url: '/ws',
      protocol: 'fleetwire.v1',
      headers: expect.stringMatching(/^Authorization: Bearer [\w-]+\.[\w-]+\.[\w-]+$/),
    });
    expect(car.received[0]).toMatchObject({ type: 'welcome', sub: 'car-1', role: 'device' });
    expect(car.motors()).toEqual({ left: 0, right: 0, duty: [0, 0] });
  });

  it('its status and seed-style telemetry are accepted and delivered to the dashboard', async () => {
    await waitFor(
      'three car_state readings',
      () => telemetry.filter((m) => m.kind === 'telemetry').length >= 3,
    );
    expect(telemetry.find((m) => m.kind === 'status')).toMatchObject({
      topic: 'devices/car-1/status',
      data: { device_id: 'car-1', status: 'online', firmware: '1.0.0' },
    });
    expect(telemetry.find((m) => m.kind === 'telemetry')).toMatchObject({
      topic: 'devices/car-1/telemetry',
      from: 'car-1',
      data: {
        device_id: 'car-1',
        type: 'car_state',
        motion: 'stop',
        speed: 0,
        battery_v: 8.4, // the stand-in's analogRead: 3475 of 4095 through the 1:3 divider
        rssi: -58,
        uptime_s: expect.any(Number),
      },
    });
  });

  it.each([
    ['forward', 1, 1],
    ['left', -1, 1],
    ['stop', 0, 0],
    ['right', 1, -1],
    ['back', -1, -1],
  ] as const)(
    'the dashboard button %s drives the motors and is acked',
    async (name, left, right) => {
      // As the dashboard sends it: the name alone.
      expect(await dashboard.command('car-1', name, undefined, { timeoutMs: 5_000 })).toEqual({
        motion: name,
        speed: name === 'stop' ? 0 : 70,
      });
      const duty = name === 'stop' ? 0 : 178;
      expect(car.motors()).toEqual({ left, right, duty: [duty, duty] });
    },
  );

  it('takes a speed, refuses what it cannot do, and the edge never answered it with an error', async () => {
    expect(await dashboard.command('car-1', 'forward', { speed: 40 })).toEqual({
      motion: 'forward',
      speed: 40,
    });
    expect(car.motors()).toEqual({ left: 1, right: 1, duty: [102, 102] });
    await expect(dashboard.command('car-1', 'fly')).rejects.toMatchObject({
      code: 'NACKED',
      reason: 'unsupported',
      message: expect.stringContaining('no command fly'),
    });
    expect(car.received.filter((m) => m['type'] === 'error')).toEqual([]);
    // Every answer the sketch sent named the command it answered.
    const answers = car.sent.filter((m) => m['type'] === 'ack' || m['type'] === 'nack');
    expect(answers).toHaveLength(7);
    for (const answer of answers) expect(answer['id']).toEqual(expect.any(String));
  });

  it('stops the motors when the connection drops, and reconnects by itself', async () => {
    expect(car.motors().left).toBe(1);
    car.socket?.terminate();
    await waitFor('the motors stopped', () => car.motors().duty[0] === 0);
    expect(car.motors()).toEqual({ left: 0, right: 0, duty: [0, 0] });
    await waitFor(
      'a second connection',
      () => car.received.filter((m) => m['type'] === 'welcome').length === 2,
      10_000,
    );
    expect(car.begins).toHaveLength(2);
    expect(await dashboard.command('car-1', 'back')).toEqual({ motion: 'back', speed: 70 });
  });
});

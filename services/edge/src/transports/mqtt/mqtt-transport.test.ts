import type { TelemetryRecord } from '@fleetwire/protocol';
import { generate } from 'mqtt-packet';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';

import {
  TestClient,
  mintToken,
  startTestEdge,
  valueOf,
  type TestEdge,
  type TokenClaims,
} from '../../test-support.js';
import type { TelemetrySink } from '../../telemetry-sink.js';
import { MqttTestClient } from './mqtt-test-client.js';

/** A telemetry sink the test steers: it can hold appends, or refuse chosen message ids. */
class SteeredSink implements TelemetrySink {
  readonly records: TelemetryRecord[] = [];
  /** Ids whose next append is refused (the log "was down"). */
  readonly refuseOnce = new Set<string>();
  private held: (() => void)[] | undefined;
  private readonly watchers: ((record: TelemetryRecord) => void)[] = [];

  append(record: TelemetryRecord): Promise<void> {
    if (this.refuseOnce.delete(record.msgId)) return Promise.reject(new Error('log down'));
    this.records.push(record);
    for (const watch of this.watchers.splice(0)) watch(record);
    if (!this.held) return Promise.resolve();
    const held = this.held;
    return new Promise((resolve) => held.push(resolve));
  }

  flush(): Promise<void> {
    return Promise.resolve();
  }

  hold(): void {
    this.held ??= [];
  }

  release(): void {
    for (const resolve of this.held?.splice(0) ?? []) resolve();
    this.held = undefined;
  }

  /** Resolves with the next record appended. */
  nextRecord(): Promise<TelemetryRecord> {
    return new Promise((resolve) => this.watchers.push(resolve));
  }

  countOf(msgId: string): number {
    return this.records.filter((r) => r.msgId === msgId).length;
  }
}

let edge: TestEdge;
const sink = new SteeredSink();
const mqttClients: MqttTestClient[] = [];
const jsonClients: TestClient[] = [];

async function mqttConnect(
  claims: TokenClaims,
  options: Parameters<typeof MqttTestClient.connect>[2] = {},
): Promise<MqttTestClient> {
  const client = await MqttTestClient.connect(edge.port, claims, options);
  mqttClients.push(client);
  return client;
}

async function jsonConnect(claims: TokenClaims): Promise<TestClient> {
  const client = await TestClient.open(edge.url, mintToken(claims));
  jsonClients.push(client);
  return client;
}

/** The error mqtt.js rejects a refused CONNECT with: its CONNACK code. */
async function refusedCode(
  options: Parameters<typeof MqttTestClient.connect>[2],
  port = edge.port,
): Promise<number> {
  const error = (await MqttTestClient.connect(port, undefined, options).then(
    (client) => {
      void client.end();
      throw new Error('CONNECT was accepted');
    },
    (e: unknown) => e,
  )) as { code?: number };
  return error.code ?? -1;
}

const mqttUrl = (): string => `ws://127.0.0.1:${edge.port}/mqtt`;

/** A raw WebSocket on the MQTT path: what it receives, and how it closed. */
function rawSocket(query = ''): {
  ws: WebSocket;
  opened: Promise<void>;
  received: Buffer[];
  closed: Promise<number>;
} {
  const ws = new WebSocket(`${mqttUrl()}${query}`, ['mqtt']);
  const received: Buffer[] = [];
  ws.on('message', (data: Buffer) => received.push(data));
  ws.on('error', () => undefined);
  return {
    ws,
    received,
    opened: new Promise((resolve) => ws.once('open', () => resolve())),
    closed: new Promise((resolve) => ws.once('close', (code) => resolve(code))),
  };
}

beforeAll(async () => {
  edge = await startTestEdge({
    telemetrySink: sink,
    limits: { commandTimeoutMs: 2_000, ratePerSec: 1_000, rateBurst: 1_000 },
  });
});

afterEach(async () => {
  sink.release();
  for (const client of mqttClients.splice(0)) client.client.end(true);
  await Promise.all(jsonClients.splice(0).map((c) => c.close()));
});

afterAll(() => edge.close());

describe('CONNECT: the JWT as the password, refusals with the right CONNACK codes', () => {
  it.each([4, 5] as const)(
    'MQTT protocol level %i connects; the client id is the device id',
    async (v) => {
      const client = await mqttConnect(
        { sub: `conn-${v}`, role: 'device' },
        { protocolVersion: v },
      );
      expect(client.client.connected).toBe(true);
      await client.end();
    },
  );

  it('an MQTT 5 client with an empty client id is assigned its token’s sub', async () => {
    const client = await mqttConnect(
      { sub: 'assigned-1', role: 'device' },
      { clientId: '', protocolVersion: 5 },
    );
    const connack = (client.client as unknown as { connackPacket: { properties?: object } })
      .connackPacket;
    expect(connack.properties).toMatchObject({ assignedClientIdentifier: 'assigned-1' });
  });

  it('a token carried by the upgrade (?token=) needs no password', async () => {
    const token = mintToken({ sub: 'upgrade-token', role: 'device' });
    const client = await MqttTestClient.connect(edge.port, undefined, {
      clientId: 'upgrade-token',
      wsOptions: {},
      transformWsUrl: (url) => `${url}?token=${token}`,
    });
    mqttClients.push(client);
    expect(client.client.connected).toBe(true);
  });

  const bad = { username: 'x', password: 'not-a-jwt' };
  it.each([
    ['a malformed token, 3.1.1', { ...bad, protocolVersion: 4 }, 0x04],
    ['a malformed token, 5', { ...bad, protocolVersion: 5 }, 0x86],
    [
      'an expired token, 5',
      {
        username: 'x',
        password: mintToken({ sub: 'old', role: 'device' }, { expiresIn: -120 }),
        protocolVersion: 5,
      },
      0x86,
    ],
    [
      'a tenant this node does not serve, 3.1.1',
      {
        username: 'x',
        password: mintToken({ sub: 'x', role: 'device', tenant: 'initech' }),
        protocolVersion: 4,
      },
      0x05,
    ],
    [
      'a tenant this node does not serve, 5',
      {
        username: 'x',
        password: mintToken({ sub: 'x', role: 'device', tenant: 'initech' }),
        protocolVersion: 5,
      },
      0x87,
    ],
    [
      'a device whose client id is not its sub, 3.1.1',
      {
        clientId: 'someone-else',
        username: 'x',
        password: mintToken({ sub: 'me', role: 'device' }),
        protocolVersion: 4,
      },
      0x02,
    ],
    [
      'a device whose client id is not its sub, 5',
      {
        clientId: 'someone-else',
        username: 'x',
        password: mintToken({ sub: 'me', role: 'device' }),
        protocolVersion: 5,
      },
      0x85,
    ],
    ['no token at all, 5', { clientId: 'anon', protocolVersion: 5 }, 0x87],
  ] as const)('%s → CONNACK %s', async (_what, options, code) => {
    expect(await refusedCode({ ...options })).toBe(code);
  });

  it('counts refusals by reason, and token failures as auth failures', async () => {
    const before = await valueOf(edge.metrics.authFailures, { reason: 'token_malformed' });
    const refusals = await valueOf(edge.metrics.mqttConnectRefusals, {
      reason: 'bad_credentials',
    });
    await refusedCode({ ...bad, protocolVersion: 5 });
    expect(await valueOf(edge.metrics.authFailures, { reason: 'token_malformed' })).toBe(
      before + 1,
    );
    expect(await valueOf(edge.metrics.mqttConnectRefusals, { reason: 'bad_credentials' })).toBe(
      refusals + 1,
    );
  });

  it('a bad token in the upgrade is refused with HTTP 401, as on /ws', async () => {
    const raw = new WebSocket(`${mqttUrl()}?token=garbage`, ['mqtt']);
    const status = await new Promise<number>((resolve) => {
      raw.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
      raw.once('error', () => undefined);
    });
    expect(status).toBe(401);
  });

  it('MQTT 3.1 (protocol level 3) gets CONNACK 1, unacceptable protocol version', async () => {
    expect(
      await refusedCode({
        protocolVersion: 3,
        protocolId: 'MQIsdp',
        username: 'x',
        password: mintToken({ sub: 'v3', role: 'device' }),
        clientId: 'v3',
      }),
    ).toBe(0x01);
  });

  it('a protocol level no parser knows (6) gets CONNACK 1 too, counted as a refusal', async () => {
    const before = await valueOf(edge.metrics.mqttConnectRefusals, {
      reason: 'unsupported_version',
    });
    const raw = rawSocket('');
    await raw.opened;
    // CONNECT, protocol name MQTT, level 6, clean start, keep alive 60, client id "a".
    const body = [0x00, 0x04, 0x4d, 0x51, 0x54, 0x54, 0x06, 0x02, 0x00, 0x3c, 0x00, 0x01, 0x61];
    raw.ws.send(Buffer.from([0x10, body.length, ...body]));
    await raw.closed;
    expect([...(raw.received[0] as Buffer)]).toEqual([0x20, 0x02, 0x00, 0x01]);
    expect(await valueOf(edge.metrics.mqttConnectRefusals, { reason: 'unsupported_version' })).toBe(
      before + 1,
    );
  });
});

describe('telemetry: QoS 0 and 1, PUBACK once the log has it', () => {
  it('QoS 1: the PUBACK waits for the telemetry sink; QoS 0 arrives too; each stored once', async () => {
    const device = await mqttConnect({ sub: 'tele-1', role: 'device' });
    sink.hold();
    let acked = false;
    const appended = sink.nextRecord();
    const published = device.client
      .publishAsync('devices/tele-1/telemetry', JSON.stringify({ id: 'q1-a', temp: 21 }), {
        qos: 1,
      })
      .then(() => {
        acked = true;
      });
    expect(await appended).toMatchObject({
      tenant: 'acme',
      deviceId: 'tele-1',
      msgId: 'q1-a',
      topic: 'devices/tele-1/telemetry',
      data: { id: 'q1-a', temp: 21 },
    });
    // A full round trip after the record reached the sink: still no PUBACK.
    await device.roundTrip();
    expect(acked).toBe(false);
    sink.release();
    await published;
    expect(acked).toBe(true);

    const qos0 = sink.nextRecord();
    await device.client.publishAsync(
      'devices/tele-1/telemetry/env',
      JSON.stringify({ id: 'q0-a', humidity: 40 }),
      { qos: 0 },
    );
    expect(await qos0).toMatchObject({ msgId: 'q0-a', topic: 'devices/tele-1/telemetry/env' });
    // QoS 1 without an id in the payload: the edge gives it one, and still waits for the log.
    await device.client.publishAsync('devices/tele-1/telemetry', JSON.stringify({ n: 1 }), {
      qos: 1,
    });
    const last = sink.records.at(-1) as TelemetryRecord;
    expect(last.data).toEqual({ n: 1 });
    expect(last.msgId).toMatch(/^[0-9a-f-]{36}$/);
    for (const id of ['q1-a', 'q0-a', last.msgId]) expect(sink.countOf(id)).toBe(1);
  });

  it('bytes, connections and messages are counted by transport', async () => {
    const before = await valueOf(edge.metrics.bytesIn, { transport: 'mqtt' });
    const beforeOut = await valueOf(edge.metrics.bytesOut, { transport: 'mqtt' });
    const mqttDevices = { role: 'device', transport: 'mqtt' };
    const wsDevices = { role: 'device', transport: 'ws' };
    const wsConnectedBefore = await valueOf(edge.metrics.connections, wsDevices);
    const telemetry = { kind: 'telemetry', transport: 'mqtt' };
    const telemetryBefore = await valueOf(edge.metrics.messagesIn, telemetry);
    const wsTelemetryBefore = await valueOf(edge.metrics.messagesIn, {
      ...telemetry,
      transport: 'ws',
    });
    const device = await mqttConnect({ sub: 'bytes-1', role: 'device' });
    // Other tests' clients may still be closing: the MQTT series holds at least this one, and
    // the WebSocket series did not move.
    expect(await valueOf(edge.metrics.connections, mqttDevices)).toBeGreaterThanOrEqual(1);
    expect(await valueOf(edge.metrics.connections, wsDevices)).toBe(wsConnectedBefore);
    await device.client.publishAsync('devices/bytes-1/telemetry', '{"n":1}', { qos: 1 });
    expect(await valueOf(edge.metrics.bytesIn, { transport: 'mqtt' })).toBeGreaterThan(before);
    expect(await valueOf(edge.metrics.bytesOut, { transport: 'mqtt' })).toBeGreaterThan(beforeOut);
    expect(await valueOf(edge.metrics.messagesIn, telemetry)).toBe(telemetryBefore + 1);
    expect(await valueOf(edge.metrics.messagesIn, { ...telemetry, transport: 'ws' })).toBe(
      wsTelemetryBefore,
    );
  });

  it('a payload ts is the record’s time, so a resend is the same record', async () => {
    const device = await mqttConnect({ sub: 'tele-ts', role: 'device' });
    const ts = Date.now() - 5_000;
    await device.client.publishAsync(
      'devices/tele-ts/telemetry',
      JSON.stringify({ id: 'ts-1', ts, v: 1 }),
      { qos: 1 },
    );
    expect(sink.records.at(-1)).toMatchObject({ msgId: 'ts-1', ts });
  });

  it('nack retry: the edge closes instead of acking; mqtt.js resends on reconnect and it is stored once', async () => {
    const device = await mqttConnect(
      { sub: 'tele-retry', role: 'device' },
      { reconnectPeriod: 50, protocolVersion: 4 },
    );
    sink.refuseOnce.add('r-1');
    const reconnected = new Promise<void>((resolve) => device.client.once('reconnect', resolve));
    const published = device.client.publishAsync(
      'devices/tele-retry/telemetry',
      JSON.stringify({ id: 'r-1', ts: Date.now(), v: 1 }),
      { qos: 1 },
    );
    await reconnected;
    await published;
    expect(sink.countOf('r-1')).toBe(1);
    expect(await valueOf(edge.metrics.telemetryNacks, { reason: 'retry' })).toBeGreaterThan(0);
  });

  it('refused PUBLISHes: MQTT 5 says why in the PUBACK, 3.1.1 acknowledges (§3.3.5)', async () => {
    const v5 = await mqttConnect({ sub: 'acl-5', role: 'device' }, { protocolVersion: 5 });
    const outside = await v5.client
      .publishAsync('devices/someone-else/telemetry', '{}', { qos: 1 })
      .then(
        () => 'acked',
        (e: unknown) => (e as { code?: number }).code,
      );
    expect(outside).toBe(0x87);
    const notJson = await v5.client
      .publishAsync('devices/acl-5/telemetry', 'not json', { qos: 1 })
      .then(
        () => 'acked',
        (e: unknown) => (e as { code?: number }).code,
      );
    expect(notJson).toBe(0x99);
    const v4 = await mqttConnect({ sub: 'acl-4', role: 'device' }, { protocolVersion: 4 });
    await v4.client.publishAsync('devices/someone-else/telemetry', '{}', { qos: 1 });
    expect(sink.records.some((r) => r.deviceId === 'someone-else')).toBe(false);
  });
});

describe('subscriptions share the bus with JSON clients', () => {
  it('an MQTT wildcard subscriber sees a JSON device’s telemetry; a JSON dashboard sees an MQTT device’s', async () => {
    const watcher = await mqttConnect({ sub: 'mqtt-ops', role: 'dashboard' });
    const granted = await watcher.client.subscribeAsync('devices/+/telemetry', { qos: 1 });
    // Deliveries are QoS 0: the edge grants 0 whatever was asked.
    expect(granted.map((g) => [g.topic, g.qos])).toEqual([['devices/+/telemetry', 0]]);
    const jsonDevice = await jsonConnect({ sub: 'json-dev', role: 'device' });
    jsonDevice.send({ type: 'telemetry', id: 'j1', data: { rpm: 900 } });
    expect(await watcher.next()).toEqual({
      topic: 'devices/json-dev/telemetry',
      data: { rpm: 900 },
      retain: false,
    });

    const dashboard = await jsonConnect({ sub: 'json-ops', role: 'dashboard' });
    dashboard.send({ type: 'subscribe', id: 's', topics: ['devices/mqtt-dev/#'] });
    expect(await dashboard.next()).toEqual({ type: 'ack', id: 's' });
    const device = await mqttConnect({ sub: 'mqtt-dev', role: 'device' }, { protocolVersion: 4 });
    expect(await dashboard.next()).toMatchObject({ kind: 'presence', data: { online: true } });
    await device.client.publishAsync('devices/mqtt-dev/events/door.open', '{"by":"badge"}', {
      qos: 1,
    });
    expect(await dashboard.next()).toMatchObject({
      type: 'message',
      kind: 'event',
      topic: 'devices/mqtt-dev/events/door.open',
      from: 'mqtt-dev',
      data: { by: 'badge' },
    });
  });

  it('SUBACK refuses per filter: MQTT 5 reason codes, 3.1.1 0x80', async () => {
    const codes = async (client: MqttTestClient, filters: string[]): Promise<number[]> => {
      // mqtt.js rejects a SUBACK with any failure; the packet is on the error.
      const error = (await client.client.subscribeAsync(filters).then(
        () => ({}),
        (e: unknown) => e,
      )) as { packet?: { granted: number[] } };
      return error.packet?.granted ?? [];
    };
    const v5 = await mqttConnect({ sub: 'sub-5', role: 'device' }, { protocolVersion: 5 });
    expect(await codes(v5, ['devices/sub-5/#', 'devices/other/#', 'a//b'])).toEqual([
      0, 0x87, 0x8f,
    ]);
    const v4 = await mqttConnect({ sub: 'sub-4', role: 'device' }, { protocolVersion: 4 });
    expect(await codes(v4, ['devices/sub-4/#', '#'])).toEqual([0, 0x80]);
  });

  it('a retained status is kept and handed to later subscribers', async () => {
    const device = await mqttConnect({ sub: 'ret-dev', role: 'device' });
    await device.client.publishAsync('devices/ret-dev/status', '{"battery":80}', {
      qos: 1,
      retain: true,
    });
    const late = await mqttConnect({ sub: 'ret-ops', role: 'dashboard' });
    await late.client.subscribeAsync('devices/+/status');
    expect(await late.next()).toEqual({
      topic: 'devices/ret-dev/status',
      data: { battery: 80 },
      retain: true,
    });
    // An empty retained PUBLISH clears it.
    await device.client.publishAsync('devices/ret-dev/status', '', { qos: 1, retain: true });
    const later = await mqttConnect({ sub: 'ret-ops-2', role: 'dashboard' });
    await later.client.subscribeAsync('devices/+/status');
    await later.roundTrip();
    expect(later.pending).toBe(0);
  });
});

describe('what a retained PUBLISH may leave behind', () => {
  it('no command, answer or edge topic is retained: a later subscriber gets none of them', async () => {
    // A dashboard commanding a device it does not cover (nack forbidden), one that does (a
    // command is an act, not a state), and a device publishing on its own presence and
    // commands (only the edge publishes there).
    const outsider = await mqttConnect({
      sub: 'plant-ops',
      role: 'dashboard',
      acl: { sub: ['devices/other/#'], pub: [] },
    });
    await outsider.client.publishAsync('devices/plant-dev/commands/reboot', '{"id":"c1"}', {
      qos: 1,
      retain: true,
    });
    const ops = await mqttConnect({ sub: 'plant-ops-2', role: 'dashboard' });
    await ops.client.publishAsync('devices/plant-dev/commands/reboot', '{"id":"c2"}', {
      qos: 1,
      retain: true,
    });
    const device = await mqttConnect({ sub: 'plant-dev', role: 'device' });
    const refused = await device.client
      .publishAsync('devices/plant-dev/presence', '{"online":true,"node":"fake"}', {
        qos: 1,
        retain: true,
      })
      .then(
        (packet) => (packet as { reasonCode?: number } | undefined)?.reasonCode,
        (error: { code?: number }) => error.code,
      );
    expect(refused).toBe(0x87);
    await device.client.publishAsync('devices/plant-dev/commands/x', '{}', {
      qos: 0,
      retain: true,
    });
    await device.client.publishAsync('devices/plant-dev/status', '{"ok":true}', {
      qos: 1,
      retain: true,
    });
    const late = await mqttConnect({ sub: 'plant-late', role: 'dashboard' });
    await late.client.subscribeAsync('devices/plant-dev/#');
    await late.roundTrip();
    expect(late.pending).toBe(1);
    expect(await late.next()).toEqual({
      topic: 'devices/plant-dev/status',
      data: { ok: true },
      retain: true,
    });
  });
});

describe('hostile subscribers', () => {
  it('a filter repeated in one SUBSCRIBE is one subscription: a SUBACK code per copy, each retained message sent once', async () => {
    const device = await mqttConnect({ sub: 'dup-dev', role: 'device' });
    await device.client.publishAsync('devices/dup-dev/status', '{"on":true}', {
      qos: 1,
      retain: true,
    });
    const granted = await device.client.subscribeAsync([
      'devices/dup-dev/#',
      'devices/dup-dev/#',
      'devices/dup-dev/status',
      'devices/dup-dev/#',
    ]);
    expect(granted.map((g) => g.qos)).toEqual([0, 0, 0, 0]);
    await device.roundTrip();
    // Two distinct filters match it: the replay sends it once all the same.
    expect(device.pending).toBe(1);
    expect(await device.next()).toEqual({
      topic: 'devices/dup-dev/status',
      data: { on: true },
      retain: true,
    });
    // Live messages: once per distinct filter held (§3.3.5), not per copy asked for.
    await device.client.publishAsync('devices/dup-dev/telemetry', '{"t":1}', { qos: 1 });
    await device.roundTrip();
    expect(device.pending).toBe(1);
  });

  it('a SUBSCRIBE without topic filters is malformed: DISCONNECT 0x81, counted', async () => {
    const before = await valueOf(edge.metrics.messagesIn, { kind: 'invalid', transport: 'mqtt' });
    const device = await mqttConnect({ sub: 'sub-empty', role: 'device' });
    const disconnect = device.nextDisconnect();
    // MQTT 5 SUBSCRIBE: packet id 1, no properties, no filter.
    device.writeRaw(Buffer.from([0x82, 0x03, 0x00, 0x01, 0x00]));
    expect(await disconnect).toBe(0x81);
    expect(await valueOf(edge.metrics.messagesIn, { kind: 'invalid', transport: 'mqtt' })).toBe(
      before + 1,
    );
  });

  it('a frame of more than 64 packets is closed before they are parsed: DISCONNECT 0x96, counted', async () => {
    const before = await valueOf(edge.metrics.messagesIn, { kind: 'invalid', transport: 'mqtt' });
    const device = await mqttConnect({ sub: 'ping-flood', role: 'device' });
    const disconnect = device.nextDisconnect();
    // 64 PINGREQs in one frame are taken; 65 are not (a 64 KiB frame holds 32,000).
    device.writeRaw(Buffer.alloc(64 * 2, Buffer.from([0xc0, 0x00])));
    await device.roundTrip();
    device.writeRaw(Buffer.alloc(65 * 2, Buffer.from([0xc0, 0x00])));
    expect(await disconnect).toBe(0x96);
    expect(await valueOf(edge.metrics.messagesIn, { kind: 'invalid', transport: 'mqtt' })).toBe(
      before + 1,
    );
  });

  it('a topic that is not valid UTF-8 is malformed: DISCONNECT 0x81', async () => {
    const device = await mqttConnect({ sub: 'utf8-dev', role: 'device' });
    const disconnect = device.nextDisconnect();
    // MQTT 5 PUBLISH QoS 0 to "devices/utf8-dev/\xff\xfe", no properties, payload "{}".
    const topic = Buffer.concat([Buffer.from('devices/utf8-dev/'), Buffer.from([0xff, 0xfe])]);
    const body = Buffer.concat([
      Buffer.from([0x00, topic.length]),
      topic,
      Buffer.from([0x00]),
      Buffer.from('{}'),
    ]);
    device.writeRaw(Buffer.concat([Buffer.from([0x30, body.length]), body]));
    expect(await disconnect).toBe(0x81);
  });
});

describe('commands and their answers', () => {
  it('a JSON dashboard commands an MQTT device; its answer on devices/<sub>/answers comes back as the ack', async () => {
    const device = await mqttConnect({ sub: 'cmd-dev', role: 'device' });
    await device.client.subscribeAsync('devices/cmd-dev/commands/#');
    const dashboard = await jsonConnect({ sub: 'cmd-ops', role: 'dashboard' });
    dashboard.send({
      type: 'command',
      id: 'c-1',
      target: 'cmd-dev',
      name: 'led',
      params: { on: true },
    });
    expect(await device.next()).toEqual({
      topic: 'devices/cmd-dev/commands/led',
      data: { type: 'command', id: 'c-1', from: 'cmd-ops', name: 'led', params: { on: true } },
      retain: false,
    });
    await device.client.publishAsync(
      'devices/cmd-dev/answers',
      JSON.stringify({ id: 'c-1', result: { on: true } }),
      { qos: 1 },
    );
    expect(await dashboard.next()).toEqual({ type: 'ack', id: 'c-1', result: { on: true } });
    dashboard.send({ type: 'command', id: 'c-2', target: 'cmd-dev', name: 'reboot' });
    await device.next();
    await device.client.publishAsync(
      'devices/cmd-dev/answers',
      JSON.stringify({ type: 'nack', id: 'c-2', reason: 'unsupported' }),
    );
    expect(await dashboard.next()).toEqual({ type: 'nack', id: 'c-2', reason: 'unsupported' });
  });

  it('an MQTT service commands a device by publishing to its command topic; the answer arrives on devices/<target>/answers', async () => {
    const device = await jsonConnect({ sub: 'cmd-json-dev', role: 'device' });
    const service = await mqttConnect({ sub: 'cmd-svc', role: 'service' });
    await service.client.publishAsync(
      'devices/cmd-json-dev/commands/led',
      JSON.stringify({ id: 'c-9', params: { on: false } }),
      { qos: 1 },
    );
    expect(await device.next()).toEqual({
      type: 'command',
      id: 'c-9',
      from: 'cmd-svc',
      name: 'led',
      params: { on: false },
    });
    device.send({ type: 'ack', id: 'c-9', result: 'done' });
    expect(await service.next()).toEqual({
      topic: 'devices/cmd-json-dev/answers',
      data: { type: 'ack', id: 'c-9', result: 'done' },
      retain: false,
    });
    // An offline target: nack offline, on the same topic.
    await service.client.publishAsync(
      'devices/nobody/commands/led',
      JSON.stringify({ id: 'c-10' }),
    );
    expect(await service.next()).toMatchObject({
      topic: 'devices/nobody/answers',
      data: { type: 'nack', id: 'c-10', reason: 'offline' },
    });
    // An id still waiting for its answer, to another device: answers come back by id, so the
    // second is refused on its own topic, and the first device's answer still finds its way.
    await service.client.publishAsync('devices/cmd-json-dev/commands/led', '{"id":"c-11"}');
    expect(await device.next()).toMatchObject({ type: 'command', id: 'c-11' });
    await service.client.publishAsync('devices/nobody/commands/led', '{"id":"c-11"}');
    expect(await service.next()).toMatchObject({
      topic: 'devices/nobody/answers',
      data: { type: 'nack', id: 'c-11', reason: 'invalid' },
    });
    device.send({ type: 'ack', id: 'c-11' });
    expect(await service.next()).toEqual({
      topic: 'devices/cmd-json-dev/answers',
      data: { type: 'ack', id: 'c-11' },
      retain: false,
    });
  });
});

describe('Last Will and presence', () => {
  it('a killed client’s Will is published, then the device goes offline; a clean DISCONNECT publishes none', async () => {
    const dashboard = await jsonConnect({ sub: 'will-ops', role: 'dashboard' });
    dashboard.send({ type: 'subscribe', id: 's', topics: ['devices/will-dev/#'] });
    expect(await dashboard.next()).toEqual({ type: 'ack', id: 's' });
    const will = { topic: 'devices/will-dev/status', payload: Buffer.from('{"state":"lost"}') };
    const device = await mqttConnect({ sub: 'will-dev', role: 'device' }, { will });
    expect(await dashboard.next()).toMatchObject({ kind: 'presence', data: { online: true } });
    device.kill();
    expect(await dashboard.next()).toMatchObject({
      kind: 'status',
      topic: 'devices/will-dev/status',
      data: { state: 'lost' },
    });
    expect(await dashboard.next()).toMatchObject({ kind: 'presence', data: { online: false } });

    const polite = await mqttConnect({ sub: 'will-dev', role: 'device' }, { will });
    expect(await dashboard.next()).toMatchObject({ kind: 'presence', data: { online: true } });
    await polite.end();
    expect(await dashboard.next()).toMatchObject({ kind: 'presence', data: { online: false } });
    expect(await dashboard.roundTrip()).toEqual([]);
  });

  it('MQTT 5: a Will at QoS 2 is refused with CONNACK 0x9B (the maximum QoS is 1); 3.1.1 takes it', async () => {
    const will = { topic: 'devices/will-q2/status', payload: Buffer.from('{}'), qos: 2 as const };
    expect(
      await refusedCode({
        clientId: 'will-q2',
        username: 'will-q2',
        password: mintToken({ sub: 'will-q2', role: 'device' }),
        will: { ...will, retain: false },
      }),
    ).toBe(0x9b);
    const v4 = await mqttConnect(
      { sub: 'will-q2', role: 'device' },
      { protocolVersion: 4, will: { ...will, retain: false } },
    );
    expect(v4.client.connected).toBe(true);
  });

  it('MQTT 5: a retained Will on a node that keeps no retained messages is refused with CONNACK 0x9A', async () => {
    const noRetain = await startTestEdge({ env: { FLEETWIRE_MQTT_MAX_RETAINED: '0' } });
    try {
      const code = await refusedCode(
        {
          clientId: 'will-r',
          username: 'will-r',
          password: mintToken({ sub: 'will-r', role: 'device' }),
          will: {
            topic: 'devices/will-r/status',
            payload: Buffer.from('{}'),
            qos: 0,
            retain: true,
          },
        },
        noRetain.port,
      );
      expect(code).toBe(0x9a);
    } finally {
      noRetain.close();
    }
  });

  it('a Will outside the ACL refuses the CONNECT', async () => {
    expect(
      await refusedCode({
        clientId: 'will-bad',
        username: 'will-bad',
        password: mintToken({ sub: 'will-bad', role: 'device' }),
        will: { topic: 'devices/other/status', payload: Buffer.from('{}'), qos: 0, retain: false },
      }),
    ).toBe(0x87);
  });
});

describe('bounded input', () => {
  it('a packet declaring more than the limit is refused from its header, before its body', async () => {
    const raw = rawSocket(`?token=${mintToken({ sub: 'big', role: 'device' })}`);
    await raw.opened;
    raw.ws.send(
      generate({ cmd: 'connect', clientId: 'big', protocolVersion: 4, keepalive: 0 } as never),
    );
    // A PUBLISH header declaring 256 MB, and only five bytes of it.
    raw.ws.send(Buffer.from([0x30, 0xff, 0xff, 0xff, 0x7f]));
    expect(await raw.closed).toBe(1009);
  });

  it('a broken stream, a text frame or a first packet other than CONNECT close the socket', async () => {
    const garbage = rawSocket();
    await garbage.opened;
    garbage.ws.send(Buffer.from([0x10, 0x03, 0x00, 0x00, 0x00]));
    expect(await garbage.closed).toBe(1002);
    const text = rawSocket();
    await text.opened;
    text.ws.send('CONNECT');
    expect(await text.closed).toBe(1003);
    const invalid = (): Promise<number> =>
      valueOf(edge.metrics.messagesIn, { kind: 'invalid', transport: 'mqtt' });
    const closedBefore = (): Promise<number> =>
      valueOf(edge.metrics.disconnects, { code: '1002', transport: 'mqtt' });
    const [invalidBefore, closes] = [await invalid(), await closedBefore()];
    const early = rawSocket();
    await early.opened;
    early.ws.send(generate({ cmd: 'pingreq' }));
    expect(await early.closed).toBe(1002);
    // Before any session: counted as an invalid packet, and the close by its code.
    expect(await invalid()).toBe(invalidBefore + 1);
    expect(await closedBefore()).toBe(closes + 1);
  });

  it('one QoS 1 PUBLISH over the inflight limit (Receive Maximum) closes: DISCONNECT 0x93', async () => {
    const device = await mqttConnect({ sub: 'inflight', role: 'device' });
    const connack = (device.client as unknown as { connackPacket: { properties?: object } })
      .connackPacket;
    expect(connack.properties).toMatchObject({ receiveMaximum: 32 });
    sink.hold();
    const disconnect = device.nextDisconnect();
    for (let i = 0; i <= 32; i++) {
      device.client.publish('devices/inflight/telemetry', JSON.stringify({ id: `f-${i}` }), {
        qos: 1,
      });
    }
    expect(await disconnect).toBe(0x93);
    sink.release();
  });

  it('an UNSUBSCRIBE without topic filters is malformed: DISCONNECT 0x81, the node keeps serving', async () => {
    const device = await mqttConnect({ sub: 'unsub-empty', role: 'device' });
    const disconnect = device.nextDisconnect();
    // MQTT 5 UNSUBSCRIBE: packet id 1, no properties, no filter (its UNSUBACK cannot be written).
    device.writeRaw(Buffer.from([0xa2, 0x03, 0x00, 0x01, 0x00]));
    expect(await disconnect).toBe(0x81);
    const next = await mqttConnect({ sub: 'unsub-after', role: 'device' });
    expect(next.client.connected).toBe(true);
  });

  it('QoS 2 is refused: MQTT 5 DISCONNECT 0x9B, counted', async () => {
    const before = await valueOf(edge.metrics.messagesIn, { kind: 'invalid', transport: 'mqtt' });
    const device = await mqttConnect({ sub: 'qos2', role: 'device' });
    const disconnect = device.nextDisconnect();
    device.client.publish('devices/qos2/telemetry', '{}', { qos: 2 });
    expect(await disconnect).toBe(0x9b);
    expect(await valueOf(edge.metrics.messagesIn, { kind: 'invalid', transport: 'mqtt' })).toBe(
      before + 1,
    );
  });

  it('bytes of a packet that never completes do not keep a connection alive (DISCONNECT 0x8D)', async () => {
    const raw = rawSocket(`?token=${mintToken({ sub: 'dripper', role: 'device' })}`);
    await raw.opened;
    raw.ws.send(
      generate({ cmd: 'connect', clientId: 'dripper', protocolVersion: 5, keepalive: 1 } as never, {
        protocolVersion: 5,
      }),
    );
    // A PUBLISH declaring 16,000 bytes, one byte a frame, more often than the keep alive.
    raw.ws.send(Buffer.from([0x30, 0x80, 0x7d]));
    const drip = setInterval(() => raw.ws.send(Buffer.from([0x00])), 200);
    try {
      expect(await raw.closed).toBe(1001);
    } finally {
      clearInterval(drip);
    }
    const last = raw.received.at(-1) as Buffer;
    expect([last[0], last[2]]).toEqual([0xe0, 0x8d]);
  });

  it('a client silent for 1.5 keep-alive periods is closed (DISCONNECT 0x8D)', async () => {
    const raw = rawSocket(`?token=${mintToken({ sub: 'quiet', role: 'device' })}`);
    await raw.opened;
    raw.ws.send(
      generate({ cmd: 'connect', clientId: 'quiet', protocolVersion: 5, keepalive: 1 } as never, {
        protocolVersion: 5,
      }),
    );
    expect(await raw.closed).toBe(1001);
    // CONNACK, then DISCONNECT with reason 0x8D (keep alive timeout).
    const last = raw.received.at(-1) as Buffer;
    expect([last[0], last[2]]).toEqual([0xe0, 0x8d]);
  });
});

describe('the rate limit covers every packet', () => {
  let slow: TestEdge;
  beforeAll(async () => {
    // Two tokens, and none back within a test however slow the machine.
    slow = await startTestEdge({ limits: { ratePerSec: 0.001, rateBurst: 2 } });
  });
  afterAll(() => slow.close());

  /** A raw MQTT 5 connection to `slow`: CONNACK received, then what arrives and how it closes. */
  async function rawV5(sub: string): Promise<{
    ws: WebSocket;
    received: Buffer[];
    closed: Promise<number>;
  }> {
    const ws = new WebSocket(
      `ws://127.0.0.1:${slow.port}/mqtt?token=${mintToken({ sub, role: 'device' })}`,
      ['mqtt'],
    );
    const received: Buffer[] = [];
    ws.on('error', () => undefined);
    const closed = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)));
    const connack = new Promise<void>((resolve) =>
      ws.on('message', (data: Buffer) => {
        received.push(data);
        if (data[0] === 0x20) resolve();
      }),
    );
    await new Promise((resolve) => ws.once('open', resolve));
    ws.send(
      generate({ cmd: 'connect', clientId: sub, protocolVersion: 5, keepalive: 0 } as never, {
        protocolVersion: 5,
      }),
    );
    await connack;
    return { ws, received, closed };
  }

  it('a flood of PUBACKs (which answer nothing) is rate-limited and closed: DISCONNECT 0x96', async () => {
    const before = await valueOf(slow.metrics.rateLimited);
    const raw = await rawV5('puback-flood');
    const puback = generate({ cmd: 'puback', messageId: 1 } as never, { protocolVersion: 5 });
    for (let i = 0; i < 40; i++) raw.ws.send(puback);
    expect(await raw.closed).toBe(1008);
    const last = raw.received.at(-1) as Buffer;
    expect([last[0], last[2]]).toEqual([0xe0, 0x96]);
    expect(await valueOf(slow.metrics.rateLimited)).toBeGreaterThanOrEqual(before + 20);
  });

  it('MQTT 5: a rate-limited UNSUBSCRIBE gets UNSUBACK 0x80 (UNSUBACK has no Quota exceeded)', async () => {
    const raw = await rawV5('unsub-limited');
    const unsuback = new Promise<Buffer>((resolve) =>
      raw.ws.on('message', (data: Buffer) => {
        if (data[0] === 0xb0) resolve(data);
      }),
    );
    // The burst (2) goes on two PINGREQs; the UNSUBSCRIBE right after is over the limit.
    raw.ws.send(generate({ cmd: 'pingreq' }));
    raw.ws.send(generate({ cmd: 'pingreq' }));
    raw.ws.send(
      generate(
        { cmd: 'unsubscribe', messageId: 7, unsubscriptions: ['devices/unsub-limited/#'] },
        { protocolVersion: 5 },
      ),
    );
    // UNSUBACK: type, length, packet id 7, no properties, one reason code.
    expect([...(await unsuback)]).toEqual([0xb0, 0x04, 0x00, 0x07, 0x00, 0x80]);
    raw.ws.close();
  });
});

describe('a retained replay larger than a socket may have waiting', () => {
  let small: TestEdge;
  beforeAll(async () => {
    small = await startTestEdge({
      limits: { maxBackpressureBytes: 64 * 1024, ratePerSec: 10_000, rateBurst: 10_000 },
    });
  });
  afterAll(() => small.close());

  it('is sent as the socket drains: the subscriber gets every message and stays connected', async () => {
    const connect = async (sub: string, role: TokenClaims['role']): Promise<MqttTestClient> => {
      const client = await MqttTestClient.connect(small.port, { sub, role });
      mqttClients.push(client);
      return client;
    };
    const publisher = await connect('big-retainer', 'device');
    const payload = `{"pad":"${'x'.repeat(16_000)}"}`;
    // 1,000 of 16 KB: 16 MB, more than loopback's socket buffers hold and far over the 64 KiB
    // this edge lets a socket have waiting.
    for (let i = 0; i < 999; i++) {
      publisher.client.publish(`devices/big-retainer/events/e${i}`, payload, { retain: true });
    }
    await publisher.client.publishAsync('devices/big-retainer/events/e999', payload, {
      qos: 1,
      retain: true,
    });
    const reader = await connect('big-reader', 'dashboard');
    await reader.client.subscribeAsync('devices/big-retainer/events/+');
    const topics = new Set<string>();
    for (let i = 0; i < 1_000; i++) topics.add((await reader.next()).topic);
    expect(topics.size).toBe(1_000);
    await reader.roundTrip();
    expect(reader.client.connected).toBe(true);
  }, 20_000);
});

describe('a retained replay costs tokens for the messages it looks at', () => {
  let edge2: TestEdge;
  beforeAll(async () => {
    // Tokens for the test's packets, and none back meanwhile.
    edge2 = await startTestEdge({ limits: { ratePerSec: 0.001, rateBurst: 2_000 } });
  });
  afterAll(() => edge2.close());

  const connect = async (
    sub: string,
    role: TokenClaims['role'] = 'dashboard',
  ): Promise<MqttTestClient> => {
    const client = await MqttTestClient.connect(edge2.port, { sub, role });
    mqttClients.push(client);
    return client;
  };

  it('a SUBSCRIBE whose replay would look at 2,000 retained messages costs 2 more tokens; without them it is granted and nothing replayed', async () => {
    const publisher = await connect('replay-pub', 'device');
    const events = 'devices/replay-pub/events';
    for (let i = 0; i < 1_999; i++) {
      publisher.client.publish(`${events}/e${i}`, '{}', { qos: 0, retain: true });
    }
    await publisher.client.publishAsync(`${events}/e1999`, '{}', { qos: 1, retain: true });

    const rich = await connect('replay-rich');
    await rich.client.subscribeAsync(`${events}/+`);
    await rich.roundTrip();
    expect(rich.pending).toBe(2_000);

    const before = await valueOf(edge2.metrics.rateLimited);
    const poor = await connect('replay-poor');
    // 1,998 PINGREQs: the SUBSCRIBE takes the 1,999th token, and the replay needs 2 of the 1 left.
    for (let i = 0; i < 1_998; i++) poor.writeRaw(generate({ cmd: 'pingreq' }));
    const granted = await poor.client.subscribeAsync(`${events}/+`);
    expect(granted.map((g) => g.qos)).toEqual([0]);
    expect(await valueOf(edge2.metrics.rateLimited)).toBe(before + 1);
    // Its UNSUBACK (0x80: no token left for it either) comes after anything the replay sent.
    await poor.roundTrip();
    expect(poor.pending).toBe(0);
  });
});

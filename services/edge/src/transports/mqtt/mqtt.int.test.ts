import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

import { RedisBus, RedisPresence } from '@fleetwire/bus';
import { createRegistry } from '@fleetwire/metrics';
import { decodeTelemetryRecord, type TelemetryRecord } from '@fleetwire/protocol';
import { TelemetryStore, migrate, openSqlClient } from '@fleetwire/store';
import { KafkaTelemetryLog, TelemetryLogMetrics } from '@fleetwire/telemetry-log';
import {
  pythonVenv,
  testKafka,
  testPostgres,
  testRedis,
  type PythonVenv,
  type TestKafka,
  type TestPostgres,
  type TestRedis,
} from '@fleetwire/testkit';
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

import {
  TestClient,
  mintToken,
  startTestEdge,
  type TestEdge,
  type TokenClaims,
} from '../../test-support.js';
import { MqttTestClient } from './mqtt-test-client.js';

const PAHO = 'paho-mqtt==2.1.0';
const PAHO_SCRIPT = fileURLToPath(new URL('./paho-clients.py', import.meta.url));

const closers: (() => Promise<void> | void)[] = [];
const jsonClients: TestClient[] = [];
const mqttClients: MqttTestClient[] = [];

async function json(edge: TestEdge, claims: TokenClaims): Promise<TestClient> {
  const client = await TestClient.open(edge.url, mintToken(claims));
  jsonClients.push(client);
  return client;
}

async function mqttClient(
  edge: TestEdge,
  claims: TokenClaims,
  options: Parameters<typeof MqttTestClient.connect>[2] = {},
): Promise<MqttTestClient> {
  const client = await MqttTestClient.connect(edge.port, claims, options);
  mqttClients.push(client);
  return client;
}

afterEach(async () => {
  for (const client of mqttClients.splice(0)) client.client.end(true);
  for (const client of jsonClients.splice(0)) client.ws.terminate();
});

afterAll(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});

/** Every record on the topic, read from the beginning to its end offsets. */
async function readTopic(brokers: string[], topic: string): Promise<TelemetryRecord[]> {
  const client = new Kafka({ brokers, logLevel: logLevel.NOTHING });
  const admin = client.admin();
  await admin.connect();
  const total = (await admin.fetchTopicOffsets(topic)).reduce((sum, p) => sum + Number(p.high), 0);
  await admin.disconnect();
  const consumer = client.consumer({ groupId: `check-${Math.random()}` });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  const records: TelemetryRecord[] = [];
  await new Promise<void>((resolve, reject) => {
    if (total === 0) resolve();
    consumer
      .run({
        eachMessage: async ({ message }) => {
          records.push(decodeTelemetryRecord(message.value));
          if (records.length === total) resolve();
        },
      })
      .catch(reject);
  });
  await consumer.disconnect();
  return records;
}

describe('MQTT clients on a Kafka-backed edge, telemetry stored in PostgreSQL', () => {
  let kafka: TestKafka;
  let postgres: TestPostgres;
  let topic: string;
  let edge: TestEdge;

  beforeAll(async () => {
    kafka = await testKafka();
    closers.push(() => kafka.close());
    topic = await kafka.createTopic('telemetry');
    const log = await KafkaTelemetryLog.connect({
      brokers: kafka.brokers,
      topic,
      lingerMs: 5,
      sendTimeoutMs: 5_000,
      metrics: new TelemetryLogMetrics(createRegistry({ service: 'edge', node: 'mqtt-int' })),
    });
    closers.push(() => log.close());
    edge = await startTestEdge({
      telemetrySink: log,
      limits: { ratePerSec: 10_000, rateBurst: 10_000 },
    });
    closers.push(() => edge.close());
    postgres = await testPostgres();
    closers.push(() => postgres.close());
  });

  /**
   * What the ingest does with the log (one batch upsert, duplicates dropped by the store); rows
   * per `device/msgId` afterwards.
   */
  async function store(records: TelemetryRecord[]): Promise<Map<string, number>> {
    const sql = await openSqlClient(postgres.url);
    try {
      await migrate(sql);
      await new TelemetryStore(sql).insertBatch(records);
      const { rows } = await sql.query<{ key: string; n: string }>(
        `select device_id || '/' || msg_id as key, count(*)::text as n
           from telemetry group by device_id, msg_id`,
      );
      return new Map(rows.map((r) => [r.key, Number(r.n)]));
    } finally {
      await sql.close();
    }
  }

  it('mqtt.js: QoS 0 and QoS 1 telemetry (and a QoS 1 resend) are in Kafka and stored exactly once', async () => {
    const device = await mqttClient(edge, { sub: 'mqttjs-truck', role: 'device' });
    const ts = Date.now();
    // Within the edge's Receive Maximum (32 QoS 1 in flight).
    const qos1 = Array.from({ length: 30 }, (_, i) => `js-q1-${i}`);
    const qos0 = Array.from({ length: 40 }, (_, i) => `js-q0-${i}`);
    // Every QoS 1 PUBACK means Kafka has the record.
    await Promise.all(
      qos1.map((id) =>
        device.client.publishAsync(
          'devices/mqttjs-truck/telemetry',
          JSON.stringify({ id, ts, v: 1 }),
          { qos: 1 },
        ),
      ),
    );
    for (const id of qos0) {
      device.client.publish('devices/mqttjs-truck/telemetry', JSON.stringify({ id, ts, v: 0 }));
    }
    // A client resending a message it had in flight: same id and ts.
    await device.client.publishAsync(
      'devices/mqttjs-truck/telemetry',
      JSON.stringify({ id: 'js-q1-0', ts, v: 1 }),
      { qos: 1, dup: true },
    );
    // QoS 0 has no PUBACK: a QoS 1 after them is acked once Kafka took everything before it
    // (the log keeps one connection's order).
    await device.client.publishAsync(
      'devices/mqttjs-truck/telemetry',
      JSON.stringify({ id: 'js-last', ts, v: 1 }),
      { qos: 1 },
    );
    const logged = (await readTopic(kafka.brokers, topic)).filter(
      (r) => r.deviceId === 'mqttjs-truck',
    );
    const ids = [...qos1, ...qos0, 'js-last'];
    for (const id of ids) expect(logged.some((r) => r.msgId === id)).toBe(true);
    expect(logged.filter((r) => r.msgId === 'js-q1-0')).toHaveLength(2);
    const stored = await store(logged);
    for (const id of ids) expect(stored.get(`mqttjs-truck/${id}`), id).toBe(1);
  });

  describe('Eclipse Paho (Python, from PyPI in a venv the test builds)', () => {
    let venv: PythonVenv;
    beforeAll(async () => {
      venv = await pythonVenv({ packages: [PAHO], timeoutMs: 180_000 });
    }, 200_000);

    /** Runs paho-clients.py; its JSON lines arrive in order through next(). */
    function paho(level: 4 | 5, device: string) {
      const child: ChildProcessWithoutNullStreams = spawn(venv.python, [
        PAHO_SCRIPT,
        String(edge.port),
        device,
        mintToken({ sub: device, role: 'device' }),
        mintToken({ sub: 'paho-ops', role: 'dashboard' }),
        String(level),
      ]);
      closers.push(() => void child.kill('SIGKILL'));
      const lines: Record<string, unknown>[] = [];
      const waiters: ((line: Record<string, unknown>) => void)[] = [];
      let stderr = '';
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      createInterface({ input: child.stdout }).on('line', (line) => {
        const parsed = JSON.parse(line) as Record<string, unknown>;
        const waiter = waiters.shift();
        if (waiter) waiter(parsed);
        else lines.push(parsed);
      });
      const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
      return {
        child,
        exited,
        stderr: () => stderr,
        send: (command: string) => child.stdin.write(`${command}\n`),
        next: (): Promise<Record<string, unknown>> => {
          const queued = lines.shift();
          if (queued) return Promise.resolve(queued);
          return new Promise((resolve) => waiters.push(resolve));
        },
        /** The next line with this event, skipping others. */
        async until(event: string): Promise<Record<string, unknown>> {
          for (;;) {
            const line = await this.next();
            if (line['event'] === 'error') throw new Error(`paho: ${JSON.stringify(line)}`);
            if (line['event'] === event) return line;
          }
        },
      };
    }

    it.each([4, 5] as const)(
      'MQTT level %i: connect with a JWT, QoS 0/1 telemetry stored once, wildcard subscription to a JSON device, a command answered, the Will on a killed client',
      async (level) => {
        const device = `paho-dev-${level}`;
        const dashboard = await json(edge, { sub: `ops-${level}`, role: 'dashboard' });
        dashboard.send({ type: 'subscribe', id: 's', topics: [`devices/${device}/#`] });
        expect(await dashboard.next()).toEqual({ type: 'ack', id: 's' });

        const client = paho(level, device);
        await client.until('ready');
        expect(await dashboard.next()).toMatchObject({
          kind: 'presence',
          data: { online: true },
        });

        client.send('publish');
        expect(await client.until('published')).toMatchObject({ acked: true });
        for (const id of ['paho-q0', 'paho-q1']) {
          expect(await dashboard.next()).toMatchObject({
            kind: 'telemetry',
            topic: `devices/${device}/telemetry`,
            from: device,
            data: { id },
          });
        }
        // The QoS 1 PUBACK came after Kafka had it; the QoS 0 before it on the same connection.
        const logged = (await readTopic(kafka.brokers, topic)).filter((r) => r.deviceId === device);
        expect(logged.map((r) => r.msgId).sort()).toEqual(['paho-q0', 'paho-q1']);
        const stored = await store(logged);
        expect([stored.get(`${device}/paho-q0`), stored.get(`${device}/paho-q1`)]).toEqual([1, 1]);

        // Paho's dashboard, subscribed to devices/+/telemetry, sees a JSON device.
        const jsonDevice = await json(edge, { sub: `json-dev-${level}`, role: 'device' });
        jsonDevice.send({ type: 'telemetry', id: 'j-1', data: { rpm: 900 + level } });
        expect(await client.until('message')).toMatchObject({
          topic: `devices/json-dev-${level}/telemetry`,
          payload: { rpm: 900 + level },
        });

        // A command from the JSON dashboard, answered by Paho on devices/<id>/answers.
        dashboard.send({ type: 'command', id: `c-${level}`, target: device, name: 'led' });
        expect(await client.until('command')).toMatchObject({
          topic: `devices/${device}/commands/led`,
          payload: { type: 'command', id: `c-${level}`, name: 'led', from: `ops-${level}` },
        });
        expect(await dashboard.next()).toEqual({
          type: 'ack',
          id: `c-${level}`,
          result: { handled: 'led' },
        });

        // Killed: no DISCONNECT. The Will comes first, then the offline event.
        client.child.kill('SIGKILL');
        await client.exited;
        expect(await dashboard.next()).toMatchObject({
          kind: 'status',
          topic: `devices/${device}/status`,
          data: { state: 'lost' },
        });
        expect(await dashboard.next()).toMatchObject({
          kind: 'presence',
          topic: `devices/${device}/presence`,
          data: { online: false },
        });
      },
      60_000,
    );
  });
});

describe('mixed across two edges over Redis: an MQTT device on one, a JSON dashboard on the other', () => {
  let redis: TestRedis;
  let a: TestEdge;
  let b: TestEdge;

  async function node(name: string): Promise<TestEdge> {
    const bus = await RedisBus.connect({ url: redis.url, nodeId: name, prefix: redis.keyPrefix });
    const presence = await RedisPresence.connect({
      url: redis.url,
      prefix: redis.keyPrefix,
      ttlMs: 30_000,
    });
    const edge = await startTestEdge({
      env: { FLEETWIRE_NODE_ID: name },
      limits: { commandTimeoutMs: 2_000 },
      bus,
      presence,
    });
    closers.push(async () => {
      edge.close();
      await bus.close();
      await presence.close();
    });
    return edge;
  }

  beforeAll(async () => {
    redis = await testRedis();
    closers.push(() => redis.close());
    a = await node('mqtt-node-a');
    b = await node('mqtt-node-b');
  });

  it('telemetry, presence, a command and its answer, and the Will cross between the transports', async () => {
    const dashboard = await json(b, { sub: 'ops-x', role: 'dashboard' });
    dashboard.send({
      type: 'subscribe',
      id: 's',
      topics: ['devices/+/telemetry', 'devices/car-m/#'],
    });
    expect(await dashboard.next()).toEqual({ type: 'ack', id: 's' });
    const will = { topic: 'devices/car-m/status', payload: Buffer.from('{"state":"lost"}') };
    const device = await mqttClient(a, { sub: 'car-m', role: 'device' }, { will });
    expect(await dashboard.next()).toMatchObject({
      kind: 'presence',
      topic: 'devices/car-m/presence',
      data: { online: true, node: 'mqtt-node-a' },
    });

    await device.client.publishAsync('devices/car-m/telemetry', '{"speed":42}', { qos: 1 });
    // Once per matching pattern, as on /ws.
    for (let i = 0; i < 2; i++) {
      expect(await dashboard.next()).toMatchObject({
        kind: 'telemetry',
        topic: 'devices/car-m/telemetry',
        from: 'car-m',
        data: { speed: 42 },
      });
    }

    // An MQTT dashboard on node b sees a JSON device on node a, through a wildcard.
    const mqttOps = await mqttClient(b, { sub: 'mqtt-ops-x', role: 'dashboard' });
    await mqttOps.client.subscribeAsync('devices/+/telemetry');
    const jsonDevice = await json(a, { sub: 'car-j', role: 'device' });
    jsonDevice.send({ type: 'telemetry', data: { speed: 7 } });
    expect(await mqttOps.next()).toEqual({
      topic: 'devices/car-j/telemetry',
      data: { speed: 7 },
      retain: false,
    });
    await dashboard.next();

    // A command from node b reaches the MQTT device on node a; its answer comes back.
    await device.client.subscribeAsync('devices/car-m/commands/#');
    dashboard.send({
      type: 'command',
      id: 'c-x',
      target: 'car-m',
      name: 'horn',
      params: { ms: 200 },
    });
    expect(await device.next()).toMatchObject({
      topic: 'devices/car-m/commands/horn',
      data: { id: 'c-x', from: 'ops-x', params: { ms: 200 } },
    });
    await device.client.publishAsync('devices/car-m/answers', '{"id":"c-x","result":"honked"}');
    expect(await dashboard.next()).toEqual({ type: 'ack', id: 'c-x', result: 'honked' });

    // And the MQTT dashboard on b commands the JSON device on a.
    await mqttOps.client.publishAsync('devices/car-j/commands/lights', '{"id":"c-y"}', { qos: 1 });
    expect(await jsonDevice.next()).toMatchObject({ type: 'command', id: 'c-y', name: 'lights' });
    jsonDevice.send({ type: 'nack', id: 'c-y', reason: 'busy' });
    expect(await mqttOps.next()).toEqual({
      topic: 'devices/car-j/answers',
      data: { type: 'nack', id: 'c-y', reason: 'busy' },
      retain: false,
    });

    device.kill();
    expect(await dashboard.next()).toMatchObject({
      kind: 'status',
      topic: 'devices/car-m/status',
      data: { state: 'lost' },
    });
    expect(await dashboard.next()).toMatchObject({
      kind: 'presence',
      topic: 'devices/car-m/presence',
      data: { online: false },
    });
  });
});

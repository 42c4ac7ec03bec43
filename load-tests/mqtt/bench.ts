// Longer than the house limit: one benchmark script, its scenarios, measurement and report in
// the order they run.
/**
 * MQTT against the JSON protocol on the same edge process, in the same run:
 *
 *   fan-out: devices publish telemetry (JSON frames / MQTT QoS 0 PUBLISH), subscribers on
 *            `devices/+/telemetry` (JSON on /ws / MQTT on /mqtt) compute publish→deliver latency
 *            on receipt (one process, one clock);
 *   ingest:  devices keep a window of telemetry in flight and send the next on each answer
 *            (JSON `ack` / MQTT QoS 1 PUBACK), both given only once Kafka has the record.
 *
 * Both sides use the same raw WebSocket client (`ws`); MQTT packets are made and read with
 * mqtt-packet, so client costs are alike and the ratios are the edge's. The edge's CPU time per
 * message is read from /proc. The edge runs as its own process (services/edge/src/main.ts) with
 * a local Kafka from @fleetwire/testkit. Bounded in count and time.
 *
 *   pnpm --filter @fleetwire/load-tests-mqtt bench [-- --devices 20 --subscribers 4 --rate 100
 *     --seconds 8 --window 8 --level 5]
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

import {
  benchArgs,
  benchToken,
  now,
  percentile,
  startBenchEdge,
  type BenchEdge,
} from '@fleetwire/bench-kit';
import { LocalKafka } from '@fleetwire/testkit';
import { Kafka, logLevel } from 'kafkajs';
import { generate, parser as mqttParser, type Packet } from 'mqtt-packet';
import WebSocket from 'ws';

const { values } = parseArgs({
  args: benchArgs(),
  options: {
    devices: { type: 'string', default: '20' },
    subscribers: { type: 'string', default: '4' },
    rate: { type: 'string', default: '100' },
    seconds: { type: 'string', default: '8' },
    window: { type: 'string', default: '8' },
    level: { type: 'string', default: '5' },
    out: { type: 'string', default: fileURLToPath(new URL('./RESULTS.md', import.meta.url)) },
  },
});
const DEVICES = Number(values.devices);
const SUBSCRIBERS = Number(values.subscribers);
const RATE = Number(values.rate); // fan-out: messages per second per device
const SECONDS = Number(values.seconds);
const WINDOW = Number(values.window); // ingest: messages in flight per device
const LEVEL = Number(values.level) === 4 ? 4 : 5;
const CLOCK_TICKS = 100; // USER_HZ on Linux

type Protocol = 'json' | 'mqtt';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** The edge's CPU time so far (user + system), in ms. */
function cpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS;
}

function startEdge(brokers: string[]): Promise<BenchEdge> {
  return startBenchEdge('bench', {
    FLEETWIRE_RATE_PER_SEC: '100000',
    FLEETWIRE_RATE_BURST: '100000',
    FLEETWIRE_KAFKA_BROKERS: brokers.join(','),
    FLEETWIRE_KAFKA_MAX_BUFFERED: '200000',
    FLEETWIRE_MQTT_MAX_INFLIGHT: String(Math.max(32, WINDOW)),
  });
}

/** One client of either protocol: `send` a telemetry payload, `onData` for what arrives. */
interface Client {
  ws: WebSocket;
  /** Telemetry (fan-out: best effort; ingest: `id` set, answered). */
  telemetry(data: Record<string, unknown>, id?: string): void;
  subscribe(pattern: string): Promise<void>;
  /** Deliveries' data, and the ids of answered telemetry. */
  onDelivery: (data: { t?: number }) => void;
  onAnswer: (id: string) => void;
}

function openJson(port: number, sub: string, role: string): Promise<Client> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/ws?token=${benchToken(sub, role)}`);
    let subscribed: (() => void) | undefined;
    const client: Client = {
      ws,
      telemetry: (data, id) =>
        ws.send(JSON.stringify({ type: 'telemetry', ...(id ? { id } : {}), data })),
      subscribe: (pattern) =>
        new Promise((done) => {
          subscribed = done;
          ws.send(JSON.stringify({ type: 'subscribe', id: 's', topics: [pattern] }));
        }),
      onDelivery: () => undefined,
      onAnswer: () => undefined,
    };
    ws.once('error', reject);
    ws.on('message', (raw: Buffer) => {
      const m = JSON.parse(raw.toString()) as { type: string; id?: string; data?: { t?: number } };
      if (m.type === 'welcome') resolve(client);
      else if (m.type === 'message') client.onDelivery(m.data ?? {});
      else if (m.type === 'ack' && m.id === 's' && subscribed) {
        subscribed();
        subscribed = undefined;
      } else if (m.type === 'ack' && m.id) client.onAnswer(m.id);
    });
  });
}

function openMqtt(port: number, sub: string, role: string): Promise<Client> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/mqtt`, ['mqtt']);
    const parser = mqttParser({ protocolVersion: LEVEL });
    const opts = { protocolVersion: LEVEL };
    let nextId = 0;
    const idOfPacket = new Map<number, string>();
    let subscribed: (() => void) | undefined;
    const client: Client = {
      ws,
      telemetry: (data, id) => {
        const payload = JSON.stringify(id ? { id, ...data } : data);
        const packet: Packet = id
          ? {
              cmd: 'publish',
              qos: 1,
              dup: false,
              retain: false,
              topic: `devices/${sub}/telemetry`,
              payload,
              messageId: (nextId = (nextId % 65535) + 1),
            }
          : {
              cmd: 'publish',
              qos: 0,
              dup: false,
              retain: false,
              topic: `devices/${sub}/telemetry`,
              payload,
            };
        if (id) idOfPacket.set(nextId, id);
        ws.send(generate(packet, opts));
      },
      subscribe: (pattern) =>
        new Promise((done) => {
          subscribed = done;
          ws.send(
            generate(
              { cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: pattern, qos: 0 }] },
              opts,
            ),
          );
        }),
      onDelivery: () => undefined,
      onAnswer: () => undefined,
    };
    parser.on('packet', (packet: Packet) => {
      if (packet.cmd === 'connack') {
        if ((packet.reasonCode ?? packet.returnCode ?? 0) !== 0) reject(new Error('refused'));
        else resolve(client);
      } else if (packet.cmd === 'publish') {
        client.onDelivery(JSON.parse(packet.payload.toString()) as { t?: number });
      } else if (packet.cmd === 'puback') {
        const id = idOfPacket.get(packet.messageId as number);
        idOfPacket.delete(packet.messageId as number);
        if (id) client.onAnswer(id);
      } else if (packet.cmd === 'suback' && subscribed) {
        subscribed();
        subscribed = undefined;
      }
    });
    ws.once('error', reject);
    ws.on('message', (raw: Buffer) => parser.parse(raw));
    ws.once('open', () =>
      ws.send(
        generate(
          {
            cmd: 'connect',
            clientId: sub,
            username: sub,
            password: Buffer.from(benchToken(sub, role)),
            protocolVersion: LEVEL,
            keepalive: 0,
            clean: true,
          },
          opts,
        ),
      ),
    );
  });
}

const open = (protocol: Protocol, port: number, sub: string, role: string): Promise<Client> =>
  protocol === 'json' ? openJson(port, sub, role) : openMqtt(port, sub, role);

interface Measured {
  name: string;
  count: number;
  expected: number;
  seconds: number;
  p50: number;
  p99: number;
  cpuPer1000: number;
}

async function fanout(
  protocol: Protocol,
  port: number,
  pid: number,
  tag: string,
): Promise<Measured> {
  const latencies: number[] = [];
  const subscribers = await Promise.all(
    Array.from({ length: SUBSCRIBERS }, (_, i) =>
      open(protocol, port, `sub-${tag}-${i}`, 'dashboard'),
    ),
  );
  await Promise.all(subscribers.map((s) => s.subscribe('devices/+/telemetry')));
  for (const s of subscribers) {
    s.onDelivery = (data) => {
      if (data.t !== undefined) latencies.push(now() - data.t);
    };
  }
  const devices = await Promise.all(
    Array.from({ length: DEVICES }, (_, i) => open(protocol, port, `dev-${tag}-${i}`, 'device')),
  );
  const cpuBefore = cpuMs(pid);
  const started = now();
  let sent = 0;
  const perTick = RATE / 10;
  for (let tick = 0; tick < SECONDS * 10; tick++) {
    const wait = started + tick * 100 - now();
    if (wait > 0) await sleep(wait);
    for (const device of devices) {
      for (let k = 0; k < perTick; k++) {
        device.telemetry({ t: now() });
        sent += 1;
      }
    }
  }
  const expected = sent * SUBSCRIBERS;
  const deadline = now() + 10_000;
  while (latencies.length < expected && now() < deadline) await sleep(20);
  const seconds = (now() - started) / 1000;
  const cpu = cpuMs(pid) - cpuBefore;
  for (const c of [...devices, ...subscribers]) c.ws.terminate();
  latencies.sort((a, b) => a - b);
  return {
    name: `${protocol} fan-out`,
    count: latencies.length,
    expected,
    seconds,
    p50: percentile(latencies, 0.5),
    p99: percentile(latencies, 0.99),
    cpuPer1000: (cpu * 1000) / Math.max(1, latencies.length),
  };
}

async function ingest(
  protocol: Protocol,
  port: number,
  pid: number,
  tag: string,
): Promise<Measured> {
  const latencies: number[] = [];
  const devices = await Promise.all(
    Array.from({ length: DEVICES }, (_, i) => open(protocol, port, `ing-${tag}-${i}`, 'device')),
  );
  const cpuBefore = cpuMs(pid);
  const started = now();
  const stopAt = started + SECONDS * 1000;
  let sent = 0;
  let inFlight = 0;
  await new Promise<void>((resolve) => {
    for (const [d, device] of devices.entries()) {
      const sentAt = new Map<string, number>();
      let n = 0;
      const next = (): void => {
        if (now() >= stopAt) return;
        const id = `${tag}-${d}-${n++}`;
        sentAt.set(id, now());
        inFlight += 1;
        sent += 1;
        device.telemetry({ n }, id);
      };
      device.onAnswer = (id) => {
        const at = sentAt.get(id);
        sentAt.delete(id);
        inFlight -= 1;
        if (at !== undefined) latencies.push(now() - at);
        next();
        if (inFlight === 0 && now() >= stopAt) resolve();
      };
      for (let k = 0; k < WINDOW; k++) next();
    }
  });
  const seconds = (now() - started) / 1000;
  const cpu = cpuMs(pid) - cpuBefore;
  for (const c of devices) c.ws.terminate();
  latencies.sort((a, b) => a - b);
  return {
    name: `${protocol} ingest`,
    count: latencies.length,
    expected: sent,
    seconds,
    p50: percentile(latencies, 0.5),
    p99: percentile(latencies, 0.99),
    cpuPer1000: (cpu * 1000) / Math.max(1, latencies.length),
  };
}

async function main(): Promise<void> {
  const kafka = await LocalKafka.launch();
  let child: BenchEdge['child'] | undefined;
  try {
    const admin = new Kafka({ brokers: kafka.brokers, logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
    await admin.createTopics({
      topics: [{ topic: 'telemetry', numPartitions: 3 }],
      waitForLeaders: true,
    });
    await admin.disconnect();
    const edge = await startEdge(kafka.brokers);
    child = edge.child;
    const pid = child.pid as number;
    // Warm-up (JIT, Kafka connections), not reported.
    await ingest('json', edge.port, pid, 'warm-j');
    await ingest('mqtt', edge.port, pid, 'warm-m');
    const results = [
      await fanout('json', edge.port, pid, 'j'),
      await fanout('mqtt', edge.port, pid, 'm'),
      await ingest('json', edge.port, pid, 'j'),
      await ingest('mqtt', edge.port, pid, 'm'),
    ];
    const [fj, fm, ij, im] = results as [Measured, Measured, Measured, Measured];
    const ratio = (x: number, y: number): string => (x / y).toFixed(2);
    const rows = results.map(
      (r) =>
        `| ${r.name} | ${r.count}/${r.expected} | ${(r.count / r.seconds).toFixed(0)} | ` +
        `${r.p50.toFixed(2)} | ${r.p99.toFixed(2)} | ${r.cpuPer1000.toFixed(1)} |`,
    );
    const report = [
      `# MQTT against JSON on one edge`,
      ``,
      `${new Date().toISOString()} · MQTT ${LEVEL === 5 ? '5.0' : '3.1.1'} · fan-out: ${DEVICES} devices × ${RATE} msg/s for ${SECONDS} s, ` +
        `${SUBSCRIBERS} subscribers on devices/+/telemetry · ingest: ${DEVICES} devices × ${WINDOW} in flight for ${SECONDS} s, ` +
        `answered once Kafka has the record · Node ${process.versions.node}`,
      ``,
      `| run | delivered or answered | per second | p50 ms | p99 ms | edge CPU ms per 1000 |`,
      `| --- | ---: | ---: | ---: | ---: | ---: |`,
      ...rows,
      ``,
      `MQTT QoS 0 fan-out / JSON: deliveries/s ×${ratio(fm.count / fm.seconds, fj.count / fj.seconds)}, ` +
        `p50 ×${ratio(fm.p50, fj.p50)}, p99 ×${ratio(fm.p99, fj.p99)}, edge CPU per delivery ×${ratio(fm.cpuPer1000, fj.cpuPer1000)}`,
      ``,
      `MQTT QoS 1 ingest / JSON ack: acked/s ×${ratio(im.count / im.seconds, ij.count / ij.seconds)}, ` +
        `p50 ×${ratio(im.p50, ij.p50)}, p99 ×${ratio(im.p99, ij.p99)}, edge CPU per message ×${ratio(im.cpuPer1000, ij.cpuPer1000)}`,
      ``,
      `Clients, the edge and Kafka share the machine, so absolute figures are a floor; compare the`,
      `ratios. Fan-out runs at a fixed offered rate, so deliveries/s near ×1.00 means both kept up;`,
      `CPU per delivery is the edge's cost. Ingest is closed-loop: acked/s is the throughput.`,
    ].join('\n');
    writeFileSync(values.out as string, `${report}\n`);
    console.log(report);
  } finally {
    child?.kill('SIGKILL');
    await kafka.dispose();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});

import { request } from 'node:http';
import { connect as tcpConnect } from 'node:net';
import { Writable } from 'node:stream';

import { TokenVerifier, loadVerificationKeys } from '@fleetwire/auth';
import {
  RedisBus,
  RedisPresence,
  type Bus,
  type OnlineResult,
  type PresenceStore,
} from '@fleetwire/bus';
import type { DeviceStateStore } from '@fleetwire/store';
import { createRegistry } from '@fleetwire/metrics';
import { decodeRelayFrame, isStreamFrame } from '@fleetwire/protocol';
import { decode } from '@msgpack/msgpack';
import jwt from 'jsonwebtoken';
import { pino } from 'pino';
import { expect } from 'vitest';
import WebSocket from 'ws';

import { loadEdgeConfig, type EdgeConfig, type EdgeLimits } from './config.js';
import { EdgeMetrics } from './metrics.js';
import { EdgeServer } from './server.js';
import type { TelemetrySink } from './telemetry-sink.js';
import { loadUws } from './uws.js';

export const SECRET = 'test-secret-that-is-at-least-32-bytes-long';
export const ISSUER = 'fleetwire-test';
export const AUDIENCE = 'fleetwire';

export interface TestEdge {
  server: EdgeServer;
  config: EdgeConfig;
  metrics: EdgeMetrics;
  url: string;
  port: number;
  /** Every JSON log line the edge wrote. */
  logs: Record<string, unknown>[];
  metricsText(): Promise<string>;
  close(): void;
}

export interface TestEdgeOptions {
  env?: Record<string, string>;
  limits?: Partial<EdgeLimits>;
  telemetrySink?: TelemetrySink;
  bus?: Bus;
  presence?: PresenceStore;
  deviceState?: DeviceStateStore;
}

export interface RedisEdgeOptions extends Omit<TestEdgeOptions, 'bus' | 'presence'> {
  name: string;
  redisUrl: string;
  prefix: string;
  presenceTtlMs?: number;
  /** FLEETWIRE_REDIS_REPLY_TIMEOUT_MS of the node's bus and presence connections. */
  replyTimeoutMs?: number;
}

export type RedisTestEdge = TestEdge & { bus: RedisBus; closeAll(): Promise<void> };

/**
 * An edge node of a cluster over a real Redis, with its own bus and presence connections (as a
 * separate process would have); `closeAll` ends the node at once and both connections, as
 * startEdgeNode's immediate stop does.
 */
export async function startRedisEdge(options: RedisEdgeOptions): Promise<RedisTestEdge> {
  const { name, redisUrl, prefix, presenceTtlMs = 30_000, replyTimeoutMs, env, ...rest } = options;
  const timeout = replyTimeoutMs === undefined ? {} : { replyTimeoutMs };
  const bus = await RedisBus.connect({ url: redisUrl, nodeId: name, prefix, ...timeout });
  const presence = await RedisPresence.connect({
    url: redisUrl,
    prefix,
    ttlMs: presenceTtlMs,
    ...timeout,
  });
  const edge = await startTestEdge({
    ...rest,
    env: { FLEETWIRE_NODE_ID: name, ...env },
    bus,
    presence,
  });
  const closeAll = async (): Promise<void> => {
    await edge.server.closeNow();
    await bus.close();
    await presence.close();
  };
  return Object.assign(edge, { bus, closeAll });
}

/** An edge node on a free port with HS256 test tokens, in this process. */
export async function startTestEdge(options: TestEdgeOptions = {}): Promise<TestEdge> {
  const base = loadEdgeConfig(
    {
      FLEETWIRE_HOST: '127.0.0.1',
      FLEETWIRE_PORT: '0',
      FLEETWIRE_JWT_HS256_SECRET: SECRET,
      FLEETWIRE_JWT_ISSUER: ISSUER,
      FLEETWIRE_JWT_AUDIENCE: AUDIENCE,
      FLEETWIRE_TENANTS: 'acme,globex',
      FLEETWIRE_LOG_LEVEL: 'info',
      ...options.env,
    },
    'test-node',
  );
  const config: EdgeConfig = { ...base, limits: { ...base.limits, ...options.limits } };
  const logs: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split('\n')) if (line) logs.push(JSON.parse(line));
      done();
    },
  });
  const logger = pino({ level: config.logLevel }, sink);
  const { uws } = loadUws({ allowFallback: false });
  const metrics = new EdgeMetrics(createRegistry({ service: 'edge', node: config.nodeId }));
  const server = new EdgeServer({
    config,
    uws,
    verifier: new TokenVerifier(loadVerificationKeys(config.auth), config.auth),
    metrics,
    logger,
    ...(options.telemetrySink ? { telemetrySink: options.telemetrySink } : {}),
    ...(options.bus ? { bus: options.bus } : {}),
    ...(options.presence ? { presence: options.presence } : {}),
    ...(options.deviceState ? { deviceState: options.deviceState } : {}),
  });
  const port = await server.listen();
  return {
    server,
    config,
    metrics,
    port,
    url: `${config.tls ? 'wss' : 'ws'}://127.0.0.1:${port}/ws`,
    logs,
    metricsText: () => metrics.registry.metrics(),
    close: () => server.close(),
  };
}

export interface TokenClaims {
  sub: string;
  role: 'device' | 'gateway' | 'dashboard' | 'service';
  tenant?: string;
  acl?: { pub?: string[]; sub?: string[] };
  subdevices?: { ids?: string[]; pattern?: string };
}

export function mintToken(claims: TokenClaims, options: jwt.SignOptions = {}): string {
  return jwt.sign({ tenant: 'acme', ...claims }, SECRET, {
    issuer: ISSUER,
    audience: AUDIENCE,
    expiresIn: 300,
    ...options,
  });
}

export type Received = Record<string, unknown> & { type: string };

/** A `ws` client that queues what it receives, so a test awaits the next message in order. */
export class TestClient {
  readonly ws: WebSocket;
  readonly opened: Promise<void>;
  readonly closed: Promise<{ code: number; reason: string }>;
  private readonly queue: Received[] = [];
  private readonly waiters: ((message: Received) => void)[] = [];

  constructor(
    url: string,
    options: {
      headers?: Record<string, string>;
      protocols?: string[];
      perMessageDeflate?: boolean;
      /** Trusted CA (PEM) for wss. */
      ca?: string;
    } = {},
  ) {
    this.ws = new WebSocket(url, options.protocols ?? [], {
      headers: options.headers ?? {},
      perMessageDeflate: options.perMessageDeflate ?? false,
      ...(options.ca ? { ca: options.ca } : {}),
    });
    this.opened = new Promise((resolve, reject) => {
      this.ws.once('open', () => resolve());
      this.ws.once('error', reject);
    });
    this.closed = new Promise((resolve) => {
      this.ws.once('close', (code, reason) => resolve({ code, reason: reason.toString() }));
    });
    this.ws.on('message', (data: Buffer, isBinary) => {
      // Stream relay frames are queued as `{type: "stream_frame", topic, seq, payload}`.
      const message = (
        isBinary && isStreamFrame(data)
          ? { type: 'stream_frame', ...decodeRelayFrame(data) }
          : isBinary
            ? decode(data)
            : JSON.parse(data.toString())
      ) as Received;
      const waiter = this.waiters.shift();
      if (waiter) waiter(message);
      else this.queue.push(message);
    });
  }

  /** Connects and consumes the welcome message. */
  static async open(
    url: string,
    token: string,
    options: { format?: 'json' | 'msgpack'; perMessageDeflate?: boolean } = {},
  ): Promise<TestClient> {
    const query = options.format === 'msgpack' ? '&format=msgpack' : '';
    const client = new TestClient(`${url}?token=${token}${query}`, options);
    await client.opened;
    const welcome = await client.next();
    if (welcome.type !== 'welcome') throw new Error(`expected welcome, got ${welcome.type}`);
    return client;
  }

  next(): Promise<Received> {
    const queued = this.queue.shift();
    if (queued) return Promise.resolve(queued);
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** Messages received and not yet taken. */
  get pending(): number {
    return this.queue.length;
  }

  send(message: unknown): void {
    this.ws.send(JSON.stringify(message));
  }

  /** Sends `ping` and waits for its `pong`: everything sent before it has been processed. */
  async roundTrip(id = `rt-${Math.random()}`): Promise<Received[]> {
    this.send({ type: 'ping', id });
    const before: Received[] = [];
    for (;;) {
      const message = await this.next();
      if (message.type === 'pong' && message['id'] === id) return before;
      before.push(message);
    }
  }

  close(): Promise<{ code: number; reason: string }> {
    this.ws.close();
    return this.closed;
  }
}

/**
 * Reads the next `sent.length` messages of `listener` and checks they are the relay frames of
 * `topic`'s chunks, in order from seq 0, each payload byte for byte what was sent.
 */
export async function expectRelayedChunks(
  listener: TestClient,
  topic: string,
  sent: readonly Uint8Array[],
): Promise<void> {
  for (let n = 0; n < sent.length; n++) {
    const frame = await listener.next();
    expect(frame).toMatchObject({ type: 'stream_frame', topic, seq: n });
    expect(Buffer.from(frame['payload'] as Uint8Array).equals(Buffer.from(sent[n]!))).toBe(true);
  }
}

/**
 * A dashboard (sub `ops`) sends `forward {speed: 2}` as command `c1` to `deviceId`; checks the
 * device gets it from `ops`, answers with a result, and the dashboard gets that ack.
 */
export async function expectCommandRoundTrip(
  dashboard: TestClient,
  device: TestClient,
  deviceId: string,
): Promise<void> {
  dashboard.send({
    type: 'command',
    id: 'c1',
    target: deviceId,
    name: 'forward',
    params: { speed: 2 },
  });
  expect(await device.next()).toEqual({
    type: 'command',
    id: 'c1',
    from: 'ops',
    name: 'forward',
    params: { speed: 2 },
  });
  device.send({ type: 'ack', id: 'c1', result: { moved: 2 } });
  expect(await dashboard.next()).toEqual({ type: 'ack', id: 'c1', result: { moved: 2 } });
}

/**
 * The clients of one test file: `connect` opens one with a token minted from `claims`,
 * `terminateAll` (afterEach) cuts every one still open.
 */
export class TestClientPool {
  private readonly opened: TestClient[] = [];

  readonly connect = async (
    edge: TestEdge,
    claims: TokenClaims,
    format: 'json' | 'msgpack' = 'json',
  ): Promise<TestClient> => {
    const client = await TestClient.open(edge.url, mintToken(claims), { format });
    this.opened.push(client);
    return client;
  };

  terminateAll(): void {
    for (const client of this.opened.splice(0)) client.ws.terminate();
  }
}

/** The HTTP answer to a refused upgrade. */
export function refusedUpgrade(
  url: string,
  options: { headers?: Record<string, string>; protocols?: string[] } = {},
): Promise<{ status: number; body: Record<string, unknown>; headers: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, options.protocols ?? [], { headers: options.headers ?? {} });
    ws.once('open', () => {
      ws.close();
      reject(new Error('the upgrade was accepted'));
    });
    ws.once('unexpected-response', (_req, res) => {
      let body = '';
      res.on('data', (chunk: Buffer) => (body += chunk.toString()));
      res.on('end', () => {
        resolve({ status: res.statusCode ?? 0, body: JSON.parse(body), headers: res.headers });
        ws.terminate();
      });
    });
    ws.once('error', () => undefined);
  });
}

/** Sends raw bytes, returns what comes back up to the end of the HTTP head (or the close). */
export function rawExchange(port: number, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = tcpConnect(port, '127.0.0.1', () => socket.write(text));
    let received = '';
    socket.on('data', (chunk) => {
      received += chunk.toString('latin1');
      if (received.includes('\r\n\r\n')) {
        socket.destroy();
        resolve(received);
      }
    });
    socket.on('error', reject);
    socket.on('close', () => resolve(received));
  });
}

export async function httpGet(
  port: number,
  path: string,
  token?: string,
): Promise<{ status: number; body: string; type: string }> {
  const { headers: _headers, ...answer } = await httpRequest(port, 'GET', path, token);
  return answer;
}

export function httpRequest(
  port: number,
  method: string,
  path: string,
  token?: string,
  body?: unknown,
  extraHeaders: Record<string, string> = {},
): Promise<{ status: number; body: string; type: string; headers: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = {
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...extraHeaders,
    };
    if (body !== undefined) headers['content-type'] = 'application/json';
    const req = request({ host: '127.0.0.1', port, path, method, headers }, (res) => {
      let text = '';
      res.on('data', (chunk: Buffer) => (text += chunk.toString()));
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          body: text,
          type: String(res.headers['content-type']),
          headers: res.headers,
        }),
      );
    });
    req.on('error', reject);
    req.end(
      body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    );
  });
}

/** The current value of a counter or gauge series with exactly these labels (0 when absent). */
export async function valueOf(
  metric: { get(): Promise<{ values: { value: number; labels: Record<string, unknown> }[] }> },
  labels: Record<string, string> = {},
): Promise<number> {
  const { values } = await metric.get();
  const wanted = Object.entries(labels);
  const series = values.find(
    (v) =>
      Object.keys(v.labels).length === wanted.length &&
      wanted.every(([name, value]) => v.labels[name] === value),
  );
  return series?.value ?? 0;
}

/**
 * A presence store whose next answer to `markOnline` for a device is held until the test
 * releases it; `answer` replaces what the store said (e.g. a refusal).
 */
export function lateAnswers(store: PresenceStore): {
  store: PresenceStore;
  hold: (deviceId: string, answer?: OnlineResult) => void;
  /** Sends the held answers (of `deviceId` only, when given). */
  release: (deviceId?: string) => void;
} {
  const holding = new Map<string, OnlineResult | undefined>();
  let held: { deviceId: string; send: () => void }[] = [];
  const late = Object.create(store) as PresenceStore;
  late.markOnline = async (device, node, now) => {
    const answer = await store.markOnline(device, node, now);
    if (!holding.has(device.deviceId)) return answer;
    const replaced = holding.get(device.deviceId);
    holding.delete(device.deviceId);
    return new Promise((resolve) =>
      held.push({ deviceId: device.deviceId, send: () => resolve(replaced ?? answer) }),
    );
  };
  return {
    store: late,
    hold: (deviceId, answer) => holding.set(deviceId, answer),
    release: (deviceId) => {
      const due = held.filter((h) => deviceId === undefined || h.deviceId === deviceId);
      held = held.filter((h) => !due.includes(h));
      for (const h of due) h.send();
    },
  };
}

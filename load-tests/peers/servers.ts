/**
 * The servers under test and how each is started: Fleetwire's built edge (`node dist/main.js`,
 * Redis, no Kafka), raw uWS, `ws`, Socket.IO (servers/) and Centrifugo (its binary, from
 * `go install`). Each listens on a free loopback port; `nodes: 2` starts two on one Redis for
 * the cross-node workload.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { freePort, waitFor } from '@fleetwire/testkit';

import { SECRET, type ProtocolName } from './protocols.js';

export const HOST = '127.0.0.1';
const HERE = fileURLToPath(new URL('.', import.meta.url));
export const EDGE_MAIN = fileURLToPath(
  new URL('../../services/edge/dist/main.js', import.meta.url),
);

/** BENCH_EDGE_BUS=memory (README): the edge without Redis, one thread. */
const memoryBus = process.env['BENCH_EDGE_BUS'] === 'memory';

export type PeerName = 'raw-uws' | 'ws' | 'socketio' | 'centrifugo' | 'fleetwire';

export interface Running {
  ports: number[];
  pids: number[];
  stop(): Promise<void>;
}

export interface StartOptions {
  nodes: 1 | 2;
  redisUrl?: string;
  /** Node flags for a Node server (every one but Centrifugo, a Go program). */
  nodeFlags?: readonly string[];
}

export interface Peer {
  name: PeerName;
  protocol: ProtocolName;
  /** Sockets per subscriber/device: Fleetwire devices are the idle row's clients. */
  role: 'device' | 'dashboard';
  start(options: StartOptions): Promise<Running>;
}

function acceptsConnections(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: HOST, port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

async function startProcess(
  command: string,
  args: string[],
  env: Record<string, string>,
  port: number,
): Promise<ChildProcess> {
  const child = spawn(command, args, {
    cwd: HERE,
    env: { PATH: process.env['PATH'] ?? '', HOME: process.env['HOME'] ?? '', ...env },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  let exited = false;
  child.once('exit', () => (exited = true));
  await waitFor(`${args.at(-1) ?? command} listening on port ${port}`, async () => {
    if (exited) throw new Error(`${command} ${args.join(' ')} exited before listening`);
    return acceptsConnections(port);
  });
  return child;
}

async function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
  await exited;
  clearTimeout(timer);
}

/** Starts `nodes` processes of one kind, one port each. */
async function startNodes(
  nodes: number,
  launch: (port: number, node: number) => Promise<ChildProcess>,
): Promise<Running> {
  const ports: number[] = [];
  const children: ChildProcess[] = [];
  for (let node = 0; node < nodes; node++) {
    const port = await freePort();
    ports.push(port);
    children.push(await launch(port, node));
  }
  return {
    ports,
    pids: children.map((child) => child.pid ?? 0),
    stop: async () => void (await Promise.all(children.map(stopProcess))),
  };
}

/**
 * A server program of servers/, run from its build (`tsc -b` → dist/servers/), as Fleetwire
 * runs from its own: under tsx the compiler's garbage would be in the idle row's RSS.
 */
function nodeServer(name: PeerName, file: string, protocol: ProtocolName): Peer {
  return {
    name,
    protocol,
    role: 'dashboard',
    start: ({ nodes, redisUrl, nodeFlags = [] }) =>
      startNodes(nodes, (port) =>
        startProcess(
          process.execPath,
          [...nodeFlags, join(HERE, 'dist', 'servers', file.replace(/\.ts$/, '.js'))],
          {
            BENCH_HOST: HOST,
            BENCH_PORT: String(port),
            BENCH_SECRET: SECRET,
            ...(process.env['BENCH_UWS_PUBLISH']
              ? { BENCH_UWS_PUBLISH: process.env['BENCH_UWS_PUBLISH'] }
              : {}),
            ...(redisUrl ? { BENCH_REDIS_URL: redisUrl } : {}),
          },
          port,
        ),
      ),
  };
}

/**
 * `edgeMain`: another build of the edge (e.g. a checkout of an older commit) to compare;
 * `workers`: its FLEETWIRE_WORKERS (uWS worker threads on the port).
 */
const fleetwire = (edgeMain: string, workers: number): Peer => ({
  name: 'fleetwire',
  protocol: 'fleetwire',
  role: 'device',
  start: ({ nodes, redisUrl, nodeFlags = [] }) =>
    startNodes(nodes, async (port, node) => {
      const child = await startProcess(
        process.execPath,
        [
          ...nodeFlags,
          // Node flags for the edge alone, e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof` (README).
          ...(process.env['BENCH_EDGE_NODE_ARGS']?.split(' ').filter(Boolean) ?? []),
          edgeMain,
        ],
        {
          FLEETWIRE_HOST: HOST,
          FLEETWIRE_PORT: String(port),
          FLEETWIRE_NODE_ID: `peers-${node}`,
          FLEETWIRE_LOG_LEVEL: 'warn',
          FLEETWIRE_JWT_HS256_SECRET: SECRET,
          FLEETWIRE_MAX_CONNECTIONS: '20000',
          // The fan-out publisher sends 2,000 messages at once; the limit is not what is measured.
          FLEETWIRE_RATE_PER_SEC: '1000000',
          FLEETWIRE_RATE_BURST: '1000000',
          FLEETWIRE_DRAIN_WINDOW_MS: '0',
          // BENCH_EDGE_BUS=memory: the edge without Redis (its in-memory bus and presence), to
          // tell the edge's own cost from its Redis work.
          ...(memoryBus ? {} : redisUrl ? { FLEETWIRE_REDIS_URL: redisUrl } : {}),
          // Workers need Redis (shared presence); without it the edge runs one thread anyway.
          FLEETWIRE_WORKERS: redisUrl && !memoryBus ? String(workers) : '1',
          // History keeps each device's presence events in a stream of its own for its
          // retention (5 min): BENCH_FLEETWIRE_HISTORY=off measures presence without them.
          ...(process.env['BENCH_FLEETWIRE_HISTORY'] === 'off'
            ? { FLEETWIRE_HISTORY_ENABLED: 'false' }
            : {}),
        },
        port,
      );
      // The port accepts once one worker listens; /metrics answers once every worker does (it
      // asks each), so no client lands on the first worker only because it was first.
      if (redisUrl && !memoryBus && workers > 1) {
        await waitFor(`${workers} edge workers on port ${port}`, () => answersMetrics(port));
      }
      return child;
    }),
});

async function answersMetrics(port: number): Promise<boolean> {
  try {
    return (await fetch(`http://${HOST}:${port}/metrics`)).ok;
  } catch {
    return false;
  }
}

/** Centrifugo v6 with HS256 tokens, client subscribe and publish allowed, Redis as the broker. */
function centrifugo(binary: string): Peer {
  return {
    name: 'centrifugo',
    protocol: 'centrifugo',
    role: 'dashboard',
    start: ({ nodes, redisUrl }) =>
      startNodes(nodes, (port, node) => {
        const dir = mkdtempSync(join(tmpdir(), 'fleetwire-peers-centrifugo-'));
        const config = join(dir, `config-${node}.json`);
        writeFileSync(
          config,
          JSON.stringify({
            http_server: { address: HOST, port },
            log: { level: 'error' },
            client: { token: { hmac_secret_key: SECRET }, allowed_origins: ['*'] },
            channel: {
              without_namespace: {
                allow_subscribe_for_client: true,
                allow_publish_for_client: true,
              },
            },
            ...(redisUrl
              ? { broker: { enabled: true, type: 'redis', redis: { address: [redisUrl] } } }
              : {}),
          }),
        );
        return startProcess(binary, ['-c', config], {}, port);
      }),
  };
}

export function peers(
  centrifugoBinary: string | undefined,
  edgeMain = EDGE_MAIN,
  edgeWorkers = 1,
): Peer[] {
  return [
    nodeServer('raw-uws', 'uws-server.ts', 'raw'),
    nodeServer('ws', 'ws-server.ts', 'raw'),
    nodeServer('socketio', 'socketio-server.ts', 'socketio'),
    ...(centrifugoBinary ? [centrifugo(centrifugoBinary)] : []),
    fleetwire(edgeMain, edgeWorkers),
  ];
}

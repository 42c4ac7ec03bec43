/**
 * The three kinds of client of load-tests/k6/fleet.js, in Node: a device (telemetry with ids,
 * acks timed, commands answered), a dashboard (subscribed to every device's telemetry, publish →
 * deliver latency) and a commander (commands to random devices, round trip timed).
 */
import jwt from 'jsonwebtoken';
import WebSocket from 'ws';

import type { FleetParams } from './params.js';
import { count, rate, trend, type FleetStats } from './stats.js';

export interface Clock {
  /** The run's start (epoch ms): every schedule is relative to it. */
  t0: number;
  /** Where the busy phase ends (epoch ms): ramp + hold. */
  end: number;
}

export interface SocketOptions {
  ca?: string;
  localAddress?: string;
}

type Message = {
  type: string;
  id?: string;
  kind?: string;
  reason?: string;
  data?: { sentAt?: number };
};

const wait = (ms: number): Promise<void> =>
  new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));

/** Opens a socket with a fresh token; resolves once welcomed (counted in fleetwire_connect_ok). */
function open(
  params: FleetParams,
  options: SocketOptions,
  stats: FleetStats,
  sub: string,
  role: 'device' | 'dashboard',
  onMessage: (ws: WebSocket, message: Message) => void,
): Promise<WebSocket | undefined> {
  const token = jwt.sign({ sub, role, tenant: params.tenant }, params.secret, {
    algorithm: 'HS256',
    expiresIn: 3600,
    ...(params.issuer ? { issuer: params.issuer } : {}),
    ...(params.audience ? { audience: params.audience } : {}),
  });
  const started = performance.now();
  const ws = new WebSocket(params.url, {
    headers: { authorization: `Bearer ${token}` },
    ...(options.ca ? { ca: options.ca } : {}),
    ...(options.localAddress ? { localAddress: options.localAddress } : {}),
  });
  return new Promise((resolve) => {
    let welcomed = false;
    ws.once('open', () => trend(stats, 'ws_connecting', performance.now() - started));
    ws.on('message', (data: Buffer) => {
      const message = JSON.parse(data.toString()) as Message;
      if (message.type === 'welcome' && !welcomed) {
        welcomed = true;
        rate(stats, 'fleetwire_connect_ok', true);
        resolve(ws);
      } else onMessage(ws, message);
    });
    const failed = (): void => {
      if (welcomed) return;
      welcomed = true;
      rate(stats, 'fleetwire_connect_ok', false);
      resolve(undefined);
    };
    ws.once('error', failed);
    ws.once('close', failed);
  });
}

export async function device(
  params: FleetParams,
  options: SocketOptions,
  stats: FleetStats,
  clock: Clock,
  index: number,
): Promise<void> {
  await wait(clock.t0 + (index / Math.max(1, params.devices)) * params.rampSec * 1000 - Date.now());
  const id = `dev-${index}`;
  const pending = new Map<string, number>();
  const ws = await open(params, options, stats, id, 'device', (socket, message) => {
    const sentAt = message.id === undefined ? undefined : pending.get(message.id);
    if (message.type === 'ack' && sentAt !== undefined) {
      trend(stats, 'fleetwire_telemetry_ack_ms', Date.now() - sentAt);
      count(stats, 'fleetwire_telemetry_acked');
      pending.delete(message.id!);
    } else if (message.type === 'nack' && sentAt !== undefined) {
      count(stats, 'fleetwire_telemetry_nacked');
      pending.delete(message.id!);
    } else if (message.type === 'command') {
      socket.send(JSON.stringify({ type: 'ack', id: message.id, result: { ok: true } }));
      count(stats, 'fleetwire_commands_answered');
    }
  });
  if (!ws) return;
  const period = 1000 / params.ratePerDevice;
  // Spread the devices' sends over the period instead of all at the same instant.
  await wait(Math.random() * period);
  let seq = 0;
  const timer = setInterval(() => {
    const mid = `${id}-${++seq}`;
    const now = Date.now();
    pending.set(mid, now);
    ws.send(
      JSON.stringify({ type: 'telemetry', id: mid, data: { temp: 20 + (seq % 10), sentAt: now } }),
    );
    count(stats, 'fleetwire_telemetry_sent');
  }, period);
  await wait(clock.end - 2000 - Date.now());
  clearInterval(timer);
  // Acks still in flight get two seconds; what is left is counted, not waited for.
  await wait(2000);
  count(stats, 'fleetwire_telemetry_unacked_at_close', pending.size);
  ws.close();
}

export async function dashboard(
  params: FleetParams,
  options: SocketOptions,
  stats: FleetStats,
  clock: Clock,
  index: number,
): Promise<void> {
  const ws = await open(
    params,
    options,
    stats,
    `fleet-dashboard-${index}`,
    'dashboard',
    (_s, m) => {
      if (m.type === 'message' && m.kind === 'telemetry') {
        count(stats, 'fleetwire_dashboard_deliveries');
        if (m.data?.sentAt) trend(stats, 'fleetwire_deliver_ms', Date.now() - m.data.sentAt);
      }
    },
  );
  if (!ws) return;
  ws.send(JSON.stringify({ type: 'subscribe', id: 's1', topics: ['devices/+/telemetry'] }));
  await wait(clock.end - Date.now());
  ws.close();
}

export async function commander(
  params: FleetParams,
  options: SocketOptions,
  stats: FleetStats,
  clock: Clock,
  index: number,
): Promise<void> {
  // Once the fleet is up, and done before the devices leave: every target is connected.
  await wait(clock.t0 + (params.rampSec + 5) * 1000 - Date.now());
  const pending = new Map<string, number>();
  const ws = await open(
    params,
    options,
    stats,
    `fleet-commander-${index}`,
    'dashboard',
    (_s, m) => {
      const sentAt = m.id === undefined ? undefined : pending.get(m.id);
      if ((m.type === 'ack' || m.type === 'nack') && sentAt !== undefined) {
        trend(stats, 'fleetwire_command_rtt_ms', Date.now() - sentAt);
        rate(stats, 'fleetwire_command_ok', m.type === 'ack');
        if (m.type === 'nack') count(stats, `fleetwire_command_nack_${m.reason ?? 'unknown'}`);
        pending.delete(m.id!);
      }
    },
  );
  if (!ws) return;
  let seq = 0;
  const timer = setInterval(() => {
    const id = `c-${index}-${++seq}`;
    const target = `dev-${Math.floor(Math.random() * params.devices)}`;
    pending.set(id, Date.now());
    ws.send(JSON.stringify({ type: 'command', id, target, name: 'ping', timeoutMs: 5000 }));
  }, 1000 / params.commandRate);
  await wait(Math.max((params.holdSec - 10) * 1000, 5000) - 2000);
  clearInterval(timer);
  await wait(1500);
  // Commands never answered count as failures.
  for (let i = 0; i < pending.size; i++) rate(stats, 'fleetwire_command_ok', false);
  ws.close();
}

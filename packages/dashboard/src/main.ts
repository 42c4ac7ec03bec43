import { FleetwireClient, topicMatches, type ConnectionState } from '@fleetwire/client';
import type { DeliveryMessage } from '@fleetwire/protocol';

import {
  ApiError,
  listDevices,
  recentTelemetry,
  telemetryRange,
  type DevicePresence,
} from './api.js';
import { LiveChart } from './live-chart.js';
import { takeToken, webSocketUrl } from './session.js';
import './style.css';

const HISTORY_MS = 15 * 60 * 1000;

const $ = <T extends HTMLElement>(selector: string): T => document.querySelector(selector) as T;
const connection = $('#connection');
const deviceList = $<HTMLUListElement>('#devices');
const deviceCount = $('#device-count');
const chartTitle = $('#chart-title');
const chartStatus = $('#chart-status');
const commandLog = $<HTMLOListElement>('#command-log');

const devices = new Map<string, DevicePresence>();
const chart = new LiveChart($('#chart'));
let selected: string | undefined;

function showConnection(state: ConnectionState | 'no-token'): void {
  connection.dataset['state'] = state;
  connection.textContent =
    state === 'no-token' ? 'no token: open the link `fleetwire start` printed' : state;
}

function ago(ts: number | undefined): string {
  if (ts === undefined) return 'never';
  const s = Math.max(0, Math.round((Date.now() - ts) / 1000));
  return s < 60
    ? `${s}s ago`
    : s < 3600
      ? `${Math.round(s / 60)}m ago`
      : new Date(ts).toLocaleString();
}

function renderDevices(): void {
  const sorted = [...devices.values()].sort(
    (a, b) => Number(b.online) - Number(a.online) || a.deviceId.localeCompare(b.deviceId),
  );
  deviceCount.textContent = String(sorted.filter((d) => d.online).length);
  deviceList.replaceChildren(
    ...sorted.map((device) => {
      const item = document.createElement('li');
      item.dataset['device'] = device.deviceId;
      item.dataset['online'] = String(device.online);
      item.className = device.deviceId === selected ? 'selected' : '';
      item.innerHTML = `<span class="dot"></span><span class="name"></span><small></small>`;
      (item.querySelector('.name') as HTMLElement).textContent = device.deviceId;
      (item.querySelector('small') as HTMLElement).textContent = device.online
        ? 'online'
        : `last seen ${ago(device.lastSeen)}`;
      item.addEventListener('click', () => void select(device.deviceId));
      return item;
    }),
  );
}

function logCommand(text: string, outcome: 'pending' | 'ack' | 'nack'): HTMLLIElement {
  const item = document.createElement('li');
  item.dataset['outcome'] = outcome;
  item.textContent = text;
  commandLog.prepend(item);
  while (commandLog.children.length > 20) commandLog.lastElementChild?.remove();
  return item;
}

async function select(deviceId: string): Promise<void> {
  selected = deviceId;
  chart.reset();
  chartTitle.textContent = deviceId;
  renderDevices();
  try {
    for (const point of await recentTelemetry(token, deviceId, HISTORY_MS)) {
      if (selected === deviceId) chart.add(point.ts, point.data);
    }
    chartStatus.textContent = `${chart.points} points`;
  } catch (error) {
    chartStatus.textContent =
      error instanceof ApiError ? `history unavailable: ${error.message}` : 'history unavailable';
  }
}

async function sendCommand(name: string, params?: unknown): Promise<void> {
  if (!selected) {
    logCommand(`${name}: select a device first`, 'nack');
    return;
  }
  const target = selected;
  const entry = logCommand(`${name} → ${target}…`, 'pending');
  const started = performance.now();
  try {
    const result = await client.command(target, name, params, { timeoutMs: 5_000 });
    const rtt = Math.round(performance.now() - started);
    entry.dataset['outcome'] = 'ack';
    entry.textContent = `${name} → ${target}: ack in ${rtt} ms${result === undefined ? '' : ` ${JSON.stringify(result)}`}`;
  } catch (error) {
    const reason = (error as { reason?: string }).reason ?? (error as Error).message;
    entry.dataset['outcome'] = 'nack';
    entry.textContent = `${name} → ${target}: nack ${reason}`;
  }
}

function onMessage(message: DeliveryMessage): void {
  if (message.kind === 'presence') {
    const data = message.data as { online: boolean; node?: string };
    const known = devices.get(message.from) ?? { deviceId: message.from, online: false };
    devices.set(message.from, {
      ...known,
      online: data.online,
      ...(data.node ? { node: data.node } : {}),
      lastSeen: message.ts,
    });
    renderDevices();
    return;
  }
  if (message.kind === 'telemetry') {
    const known = devices.get(message.from);
    if (!known) {
      devices.set(message.from, { deviceId: message.from, online: true, lastSeen: message.ts });
      renderDevices();
    }
    if (message.from === selected) {
      chart.add(message.ts, message.data as Record<string, unknown>);
      chartStatus.textContent = `${chart.points} points`;
    }
  }
}

/** The store gets telemetry through the log, a little after it was delivered live. */
const REFETCH_AGAIN_MS = 5_000;

/**
 * Live messages the server could not deliver (a lost bus, an expired history after a long
 * reconnect): the selected device's chart refetches the range from the read API and merges it.
 */
async function refill(gap: { topic: string; from: number; to: number }): Promise<void> {
  const deviceId = selected;
  if (!deviceId || !topicMatches(gap.topic, `devices/${deviceId}/telemetry`)) return;
  for (const wait of [0, REFETCH_AGAIN_MS]) {
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    try {
      const points = await telemetryRange(token, deviceId, gap.from, gap.to);
      if (selected !== deviceId) return;
      chart.merge(points);
      chartStatus.textContent = `${chart.points} points`;
    } catch {
      chartStatus.textContent = 'a gap could not be refetched';
    }
  }
}

const maybeToken = takeToken();
if (!maybeToken) {
  showConnection('no-token');
  throw new Error('no token');
}
const token: string = maybeToken;
const client = new FleetwireClient({ url: webSocketUrl(), token });
client.on('state', showConnection);
client.on('message', onMessage);
client.on('gap', (gap) => void refill(gap));
client.on('welcome', () => {
  void listDevices(token).then(
    (list) => {
      for (const device of list) devices.set(device.deviceId, device);
      renderDevices();
      if (!selected && list[0])
        void select(list.find((d) => d.online)?.deviceId ?? list[0].deviceId);
    },
    () => undefined,
  );
});
void client.connect().then(() => client.subscribe(['devices/+/telemetry', 'devices/+/presence']));

for (const button of document.querySelectorAll<HTMLButtonElement>('#drive button')) {
  button.addEventListener('click', () => void sendCommand(button.dataset['command'] as string));
}
$<HTMLFormElement>('#custom-command').addEventListener('submit', (event) => {
  event.preventDefault();
  const form = new FormData(event.target as HTMLFormElement);
  const raw = String(form.get('params') ?? '').trim();
  let params: unknown;
  try {
    params = raw ? JSON.parse(raw) : undefined;
  } catch {
    logCommand('params must be JSON', 'nack');
    return;
  }
  void sendCommand(String(form.get('name')), params);
});
setInterval(renderDevices, 10_000);

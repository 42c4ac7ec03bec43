import { FleetwireClient, topicMatches } from '@fleetwire/client';
import type { DeliveryMessage, DeviceStateDocument } from '@fleetwire/protocol';

import {
  ApiError,
  devicePresence,
  listDevices,
  onApiError,
  recentTelemetry,
  telemetryRange,
  type DevicePresence,
} from './api.js';
import { CommandPanel } from './command-panel.js';
import { ConnectionStatus } from './connection-status.js';
import { DeviceList, type StatusFilter } from './device-list.js';
import { LiveChart, numericFields } from './live-chart.js';
import { Overview } from './overview.js';
import { afterPresenceEvent, type PresenceEvent } from './presence-events.js';
import { PresenceTimeline } from './presence-timeline.js';
import { RecentErrors } from './recent-errors.js';
import { RANGES, SeriesChart } from './series-chart.js';
import { takeToken, webSocketUrl } from './session.js';
import { StatePanel } from './state-panel.js';
import './style.css';

const LIVE_WINDOW_MS = 15 * 60 * 1000;
const DEFAULT_FIELDS = ['temperature', 'humidity'];

const $ = <T extends HTMLElement>(selector: string): T => document.querySelector(selector) as T;

const status = new ConnectionStatus($('#connection'));
const maybeToken = takeToken();
if (!maybeToken) {
  status.state('no-token');
  throw new Error('no token');
}
const token: string = maybeToken;

const devices = new Map<string, DevicePresence>();
const errors = new RecentErrors($<HTMLOListElement>('#errors'));
const overview = new Overview($('#overview-view'), devices, errors);
const list = new DeviceList(
  devices,
  $('#device-scroll'),
  $('#device-spacer'),
  $<HTMLUListElement>('#devices'),
  $('#device-summary'),
  (deviceId) => {
    window.location.hash = `#/device/${encodeURIComponent(deviceId)}`;
  },
);
const liveChart = new LiveChart($('#chart'));
const seriesChart = new SeriesChart($('#series-chart'), $('#series-status'));
const timeline = new PresenceTimeline($('#presence-bar'), $('#presence-caption'));
const statePanel = new StatePanel($('#state-panel'), token);
let selected: string | undefined;
let range = '1h';
let fields = DEFAULT_FIELDS;

onApiError((error, what) => errors.add('request', error.code, `${what}: ${error.message}`));

function devicesChanged(): void {
  $('#device-count').textContent = String([...devices.values()].filter((d) => d.online).length);
  list.schedule();
  overview.devicesChanged();
}

function showPresence(): void {
  const device = selected === undefined ? undefined : devices.get(selected);
  const element = $('#device-presence');
  element.dataset['online'] = String(device?.online ?? false);
  element.textContent = device
    ? device.online
      ? `online on ${device.node ?? 'an edge'}${device.gateway ? ` via ${device.gateway}` : ''}`
      : 'offline'
    : '';
}

async function openDevice(deviceId: string): Promise<void> {
  selected = deviceId;
  list.selected = deviceId;
  list.schedule(false);
  $('#overview-view').hidden = true;
  $('#device-view').hidden = false;
  $('#chart-title').textContent = deviceId;
  showPresence();
  liveChart.reset();
  $('#chart-status').textContent = '';
  void statePanel.open(deviceId);
  void devicePresence(token, deviceId).then(
    (record) => selected === deviceId && timeline.reset(record),
    () => selected === deviceId && timeline.reset(devices.get(deviceId)),
  );
  try {
    const points = await recentTelemetry(token, deviceId, LIVE_WINDOW_MS);
    if (selected !== deviceId) return;
    for (const point of points) liveChart.add(point.ts, point.data);
    $('#chart-status').textContent = `${liveChart.points} points`;
    const latest = points[points.length - 1];
    const found = latest ? Object.keys(numericFields(latest.data)) : [];
    fields = found.length > 0 ? found.slice(0, 6) : DEFAULT_FIELDS;
  } catch (error) {
    $('#chart-status').textContent =
      error instanceof ApiError ? `history unavailable: ${error.message}` : 'history unavailable';
  }
  if (selected === deviceId) void seriesChart.load(token, deviceId, fields, range);
}

function showOverview(): void {
  selected = undefined;
  list.selected = undefined;
  list.schedule(false);
  $('#device-view').hidden = true;
  $('#overview-view').hidden = false;
  overview.start();
}

function route(): void {
  const match = /^#\/device\/(.+)$/.exec(window.location.hash);
  if (match) void openDevice(decodeURIComponent(match[1]!));
  else showOverview();
}

/** The device's presence record, for an event that cannot be taken as it is (presence-events.ts). */
function recheckPresence(deviceId: string): void {
  void devicePresence(token, deviceId).then(
    (record) => {
      devices.set(deviceId, record);
      devicesChanged();
      if (deviceId === selected) showPresence();
    },
    // Shown among the recent errors (onApiError); the next event or reconnect reads it again.
    () => undefined,
  );
}

function onMessage(message: DeliveryMessage): void {
  if (message.kind === 'presence') {
    const data = message.data as PresenceEvent;
    const after = afterPresenceEvent(devices.get(message.from), message.from, data, message.ts);
    if (after === 'check') {
      recheckPresence(message.from);
      return;
    }
    devices.set(message.from, after);
    devicesChanged();
    if (message.from === selected) {
      timeline.add(message.ts, data.online);
      showPresence();
    }
    return;
  }
  if (message.kind === 'state') {
    const doc = message.data as DeviceStateDocument;
    statePanel.changed(doc);
    overview.stateChanged(doc, message.from, message.ts);
    return;
  }
  if (message.kind === 'telemetry') {
    if (!devices.has(message.from)) {
      devices.set(message.from, { deviceId: message.from, online: true, lastSeen: message.ts });
      devicesChanged();
    }
    if (message.from === selected) {
      liveChart.add(message.ts, message.data as Record<string, unknown>);
      $('#chart-status').textContent = `${liveChart.points} points`;
    }
  }
}

/** The store gets telemetry through the log, a little after it was delivered live. */
const REFETCH_AGAIN_MS = 5_000;

/**
 * Live messages the server could not deliver (a lost bus, an expired history after a long
 * reconnect): the selected device's live chart refetches the range from the read API and merges it.
 */
async function refill(gap: { topic: string; from: number; to: number }): Promise<void> {
  const deviceId = selected;
  if (!deviceId || !topicMatches(gap.topic, `devices/${deviceId}/telemetry`)) return;
  for (const wait of [0, REFETCH_AGAIN_MS]) {
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    try {
      const points = await telemetryRange(token, deviceId, gap.from, gap.to);
      if (selected !== deviceId) return;
      liveChart.merge(points);
      $('#chart-status').textContent = `${liveChart.points} points`;
    } catch {
      $('#chart-status').textContent = 'a gap could not be refetched';
    }
  }
}

const client = new FleetwireClient({ url: webSocketUrl(), token });
status.watch(client);
client.on('message', onMessage);
client.on('gap', (gap) => void refill(gap));
client.on('serverError', (error) => errors.add('websocket', error.code, error.message));
client.on('welcome', () => {
  void listDevices(token).then(
    (found) => {
      for (const device of found) devices.set(device.deviceId, device);
      devicesChanged();
      showPresence();
    },
    () => undefined,
  );
});
void client
  .connect()
  .then(() => client.subscribe(['devices/+/telemetry', 'devices/+/presence', 'devices/+/state']));
new CommandPanel($('#command-panel'), client, () => selected);

const search = $<HTMLInputElement>('#device-search');
const statusFilter = $<HTMLSelectElement>('#device-status');
const refilter = (): void => list.filter(search.value, statusFilter.value as StatusFilter);
search.addEventListener('input', refilter);
statusFilter.addEventListener('change', refilter);

for (const button of document.querySelectorAll<HTMLButtonElement>('#range-picker button')) {
  button.addEventListener('click', () => {
    range = button.dataset['range'] ?? '1h';
    for (const other of document.querySelectorAll('#range-picker button')) {
      other.classList.toggle('active', other === button);
    }
    timeline.setRange(RANGES[range]?.ms ?? 3_600_000);
    if (selected) void seriesChart.load(token, selected, fields, range);
  });
}

window.addEventListener('hashchange', route);
route();
// "last seen 3m ago" and the presence bar move with the clock.
setInterval(() => {
  list.schedule(false);
  timeline.render();
}, 10_000);

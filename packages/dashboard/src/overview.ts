import uPlot from 'uplot';

import { metricsText, type DevicePresence, type DeviceStateDocument } from './api.js';
import { byLabel, histogramQuantile, parseMetrics, total, type Sample } from './prometheus.js';
import type { RecentErrors } from './recent-errors.js';

const POLL_MS = 2_000;
const HISTORY = 150;
const WINDOW_S = (HISTORY * POLL_MS) / 1000;
const ACK_HISTOGRAM = 'fleetwire_edge_telemetry_ack_seconds';

/** Counters whose increase is an error worth showing, and the label that says which. */
const ERROR_COUNTERS: [metric: string, label: string | undefined, source: string][] = [
  ['fleetwire_edge_protocol_errors_total', 'code', 'protocol'],
  ['fleetwire_edge_http_refusals_total', 'reason', 'http refusals'],
  ['fleetwire_edge_upgrade_refusals_total', 'reason', 'upgrade'],
  ['fleetwire_edge_auth_failures_total', 'reason', 'auth'],
  ['fleetwire_edge_telemetry_nacks_total', 'reason', 'telemetry nack'],
  ['fleetwire_edge_state_conflicts_total', undefined, 'state conflict'],
  ['fleetwire_edge_node_messages_dropped_total', 'reason', 'bus'],
];

const $ = (root: ParentNode, selector: string): HTMLElement =>
  root.querySelector(selector) as HTMLElement;

function ms(seconds: number | undefined): string {
  return seconds === undefined ? '–' : `${(seconds * 1000).toFixed(seconds < 0.01 ? 2 : 1)} ms`;
}

/**
 * The fleet at a glance: devices online and offline and per edge node (from presence, so
 * cluster-wide), and from the serving node's own /metrics, polled every 2 s: messages in per
 * second, telemetry ack latency p50/p99 over the last interval, and every error counter that
 * moved. A deployment that does not expose /metrics to browsers still gets the device numbers.
 */
export class Overview {
  private previous: { at: number; samples: Sample[] } | undefined;
  private readonly times: number[] = [];
  private readonly rates: number[] = [];
  private readonly p99s: (number | null)[] = [];
  private readonly stateChanges: HTMLElement[] = [];
  private plot: uPlot | undefined;
  private timer: ReturnType<typeof setInterval> | undefined;

  constructor(
    private readonly root: HTMLElement,
    private readonly devices: Map<string, DevicePresence>,
    private readonly errors: RecentErrors,
  ) {}

  start(): void {
    void this.poll();
    this.timer ??= setInterval(() => void this.poll(), POLL_MS);
  }

  private frame = 0;

  /** Presence changed: the counts are redrawn once per frame however many events arrive. */
  devicesChanged(): void {
    if (this.frame) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      this.renderDevices();
    });
  }

  /** Device counts and devices per edge node (one pass over the devices). */
  renderDevices(): void {
    let online = 0;
    const perNode = new Map<string, number>();
    for (const device of this.devices.values()) {
      if (!device.online) continue;
      online += 1;
      const node = device.node ?? 'unknown';
      perNode.set(node, (perNode.get(node) ?? 0) + 1);
    }
    $(this.root, '#ov-online').textContent = String(online);
    $(this.root, '#ov-offline').textContent = String(this.devices.size - online);
    const table = $(this.root, '#ov-edges tbody');
    table.replaceChildren(
      ...[...perNode.entries()]
        .sort((a, b) => b[1] - a[1])
        .map(([node, count]) => {
          const row = document.createElement('tr');
          const name = document.createElement('td');
          name.textContent = node;
          const value = document.createElement('td');
          value.textContent = String(count);
          row.append(name, value);
          return row;
        }),
    );
  }

  /** A device's state document changed (`devices/+/state`): listed, newest first. */
  stateChanged(doc: DeviceStateDocument, from: string, ts: number): void {
    const item = document.createElement('li');
    const pending = Object.keys(doc.delta).length;
    item.dataset['device'] = doc.deviceId;
    item.dataset['pending'] = String(pending);
    const time = document.createElement('time');
    time.textContent = new Date(ts).toLocaleTimeString();
    const link = document.createElement('a');
    link.href = `#/device/${encodeURIComponent(doc.deviceId)}`;
    link.textContent = doc.deviceId;
    const by = from === doc.deviceId ? 'reported' : `set by ${from}`;
    const delta = pending === 0 ? 'in sync' : `pending ${JSON.stringify(doc.delta)}`;
    item.append(time, ' ', link, ` v${doc.version} ${by} · ${delta}`);
    this.stateChanges.unshift(item);
    this.stateChanges.length = Math.min(this.stateChanges.length, 12);
    $(this.root, '#ov-state-changes').replaceChildren(...this.stateChanges);
  }

  private async poll(): Promise<void> {
    this.renderDevices();
    const text = await metricsText();
    const status = $(this.root, '#ov-metrics-status');
    if (text === undefined) {
      status.textContent = 'this node does not expose /metrics to the browser';
      return;
    }
    const now = performance.now();
    const samples = parseMetrics(text);
    status.textContent = `node metrics, every ${POLL_MS / 1000} s`;
    const connections = byLabel(samples, 'fleetwire_edge_connections', 'role');
    $(this.root, '#ov-node-connections').textContent = [...connections.entries()]
      .map(([role, count]) => `${count} ${role}`)
      .join(' · ');
    const before = this.previous;
    this.previous = { at: now, samples };
    if (!before) return;
    const seconds = (now - before.at) / 1000;
    const messages = (s: Sample[]) =>
      total(s, 'fleetwire_edge_messages_in_total', (l) => l['kind'] !== 'invalid');
    const rate = Math.max(0, (messages(samples) - messages(before.samples)) / seconds);
    const p50 = histogramQuantile(before.samples, samples, ACK_HISTOGRAM, 0.5);
    const p99 = histogramQuantile(before.samples, samples, ACK_HISTOGRAM, 0.99);
    $(this.root, '#ov-rate').textContent = rate.toFixed(1);
    $(this.root, '#ov-p50').textContent = ms(p50);
    $(this.root, '#ov-p99').textContent = ms(p99);
    this.countErrors(before.samples, samples);
    this.chart(Date.now() / 1000, rate, p99 === undefined ? null : p99 * 1000);
  }

  private countErrors(before: Sample[], after: Sample[]): void {
    for (const [metric, label, source] of ERROR_COUNTERS) {
      const was = label ? byLabel(before, metric, label) : new Map([['', total(before, metric)]]);
      const now = label ? byLabel(after, metric, label) : new Map([['', total(after, metric)]]);
      for (const [code, value] of now) {
        const added = value - (was.get(code) ?? 0);
        if (added > 0) this.errors.add(source, code || source, `${added} on this node`);
      }
    }
  }

  private chart(ts: number, rate: number, p99Ms: number | null): void {
    this.times.push(ts);
    this.rates.push(rate);
    this.p99s.push(p99Ms);
    if (this.times.length > HISTORY) {
      this.times.shift();
      this.rates.shift();
      this.p99s.shift();
    }
    const data: uPlot.AlignedData = [this.times, this.rates, this.p99s];
    (this.root.querySelector('#ov-chart') as HTMLElement).dataset['points'] = String(
      this.times.length,
    );
    if (this.plot) {
      this.plot.setData(data);
      return;
    }
    const element = $(this.root, '#ov-chart');
    this.plot = new uPlot(
      {
        width: Math.max(320, element.clientWidth),
        height: 180,
        scales: {
          x: {
            time: true,
            // What was polled, at most the last five minutes; a first lone point gets 10 s.
            range: (_u, min, max) => [Math.min(Math.max(min, max - WINDOW_S), max - 10), max],
          },
        },
        series: [
          {},
          { label: 'messages/s', stroke: '#2563eb', width: 2, scale: 'rate' },
          { label: 'ack p99 (ms)', stroke: '#dc2626', width: 2, scale: 'ms' },
        ],
        axes: [{}, { scale: 'rate' }, { scale: 'ms', side: 1, grid: { show: false } }],
      },
      data,
      element,
    );
  }
}

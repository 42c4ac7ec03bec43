import { FleetwireClient, type WebSocketConstructor } from '@fleetwire/client';
import WebSocket from 'ws';

export interface SimulateOptions {
  /** The edge's WebSocket URL, e.g. `ws://127.0.0.1:8080/ws`. */
  url: string;
  tokenFor(deviceId: string): string;
  /** Device ids to simulate. */
  devices: string[];
  /**
   * Gateways to simulate besides the devices: each holds one connection for its sub-devices
   * (`<gateway>-dev-<n>`), which send and answer commands as the devices do.
   */
  gateways?: {
    ids: string[];
    perGateway: number;
    tokenFor(gatewayId: string, subDevices: string[]): string;
  };
  /** Telemetry messages per second per device. */
  ratePerSec: number;
  /** Extra bytes of padding per message, to load the pipe like bigger payloads would. */
  payloadBytes?: number;
  /** Aborting it disconnects every device; the promise then resolves with the summary. */
  signal: AbortSignal;
  /** Called about once a second with the running totals. */
  onProgress?: (summary: SimulateSummary) => void;
}

export interface SimulateSummary {
  /** Devices, sub-devices of the gateways included. */
  devices: number;
  /** Devices connected now (a sub-device: attached by its connected gateway). */
  connected: number;
  /** Telemetry messages sent, acked by the edge (stored in its log), nacked, and failed. */
  sent: number;
  acked: number;
  nacked: number;
  errors: number;
  /** Commands received (each acked back). */
  commands: number;
  /** From send to ack, ms; undefined before the first ack. */
  ackLatencyP50?: number;
  ackLatencyP99?: number;
}

export type SimulateFn = (options: SimulateOptions) => Promise<SimulateSummary>;

const MAX_SAMPLES = 100_000;

interface Sender {
  connected(): boolean;
  telemetry(data: Record<string, unknown>): Promise<void>;
}

function percentile(sorted: number[], p: number): number | undefined {
  if (sorted.length === 0) return undefined;
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];
}

/**
 * Simulated devices written with the SDK, as real device code would be: each keeps one
 * connection alive (reconnect, token per attempt), sends `{temperature, humidity}` telemetry
 * reliably (resent until acked), and acks every command with what it did.
 */
export const simulate: SimulateFn = async (options) => {
  const { devices, ratePerSec, signal } = options;
  const latencies: number[] = [];
  const totals = { sent: 0, acked: 0, nacked: 0, errors: 0, commands: 0 };
  const connection = (token: () => string): FleetwireClient =>
    new FleetwireClient({
      url: options.url,
      token,
      WebSocket: WebSocket as unknown as WebSocketConstructor,
      backoff: { initialDelayMs: 250, maxDelayMs: 5_000 },
    });
  const answer = (command: { name: string }) => {
    totals.commands += 1;
    return { done: command.name, at: Date.now() };
  };
  const clients = devices.map((deviceId) => {
    const client = connection(() => options.tokenFor(deviceId));
    client.onCommand('*', answer);
    return client;
  });
  /** What sends telemetry: a device's own connection, or a sub-device on its gateway's. */
  const senders: Sender[] = clients.map((client) => ({
    connected: () => client.state === 'connected',
    telemetry: (data) => client.telemetry(data, { reliable: true }),
  }));
  for (const gatewayId of options.gateways?.ids ?? []) {
    const { perGateway, tokenFor } = options.gateways as NonNullable<SimulateOptions['gateways']>;
    const subIds = Array.from({ length: perGateway }, (_, i) => `${gatewayId}-dev-${i + 1}`);
    const gateway = connection(() => tokenFor(gatewayId, subIds));
    clients.push(gateway);
    for (const subId of subIds) {
      const sub = gateway.subDevice(subId);
      sub.onCommand('*', answer);
      let attached = false;
      sub.attached.then(
        () => (attached = true),
        () => (totals.errors += 1),
      );
      senders.push({
        connected: () => attached && gateway.state === 'connected',
        telemetry: (data) => sub.telemetry(data, { reliable: true }),
      });
    }
  }
  // Every sender drifts around its own target; the directly connected devices also keep their
  // state document (the SDK's sub-device handle does not report state).
  const states = senders.map((_, index) => new SimulatedState(20 + (index % 10)));
  devices.forEach((_, index) => {
    const client = clients[index]!;
    const state = states[index]!;
    // What the device has, once per connection (the server may have lost nothing, but a
    // device cannot know), then whatever it is asked to change.
    client.on('welcome', () => void client.report(state.reported()).catch(() => undefined));
    client.onDesired((_desired, delta) => {
      const done = state.apply(delta);
      if (Object.keys(done).length > 0) void client.report(done).catch(() => undefined);
    });
  });
  const summary = (): SimulateSummary => {
    const sorted = [...latencies].sort((a, b) => a - b);
    const p50 = percentile(sorted, 0.5);
    const p99 = percentile(sorted, 0.99);
    return {
      devices: senders.length,
      connected: senders.filter((sender) => sender.connected()).length,
      ...totals,
      ...(p50 === undefined ? {} : { ackLatencyP50: p50 }),
      ...(p99 === undefined ? {} : { ackLatencyP99: p99 }),
    };
  };

  const padding = 'x'.repeat(options.payloadBytes ?? 0);
  for (const client of clients) void client.connect().catch(() => undefined);
  const timers = senders.map((sender, index) => {
    // A slow drift per device around its target, so charts of several devices are told apart.
    const state = states[index]!;
    let seq = 0;
    return setInterval(
      () => {
        if (!sender.connected()) return;
        seq += 1;
        const t = seq / 60;
        const started = performance.now();
        totals.sent += 1;
        sender
          .telemetry({
            temperature: Math.round((state.temperature() + 2 * Math.sin(t)) * 10) / 10,
            humidity: Math.round((45 + 10 * Math.cos(t / 2)) * 10) / 10,
            ...(padding ? { padding } : {}),
          })
          .then(
            () => {
              totals.acked += 1;
              if (latencies.length < MAX_SAMPLES) latencies.push(performance.now() - started);
            },
            (error: { code?: string }) => {
              if (error.code === 'NACKED') totals.nacked += 1;
              else if (error.code !== 'CLIENT_CLOSED') totals.errors += 1;
            },
          );
      },
      Math.max(1, Math.round(1000 / ratePerSec)),
    );
  });
  const progress = options.onProgress
    ? setInterval(() => options.onProgress?.(summary()), 1000)
    : undefined;

  await new Promise<void>((resolve) => {
    if (signal.aborted) resolve();
    else signal.addEventListener('abort', () => resolve(), { once: true });
  });
  for (const timer of timers) clearInterval(timer);
  clearInterval(progress);
  const final = summary();
  for (const client of clients) client.close();
  return final;
};

/**
 * A simulated device's own state: an LED and a thermostat. It honours `led` (a boolean) and
 * `target_temperature` (5–35 °C), which its temperature then drifts towards; other keys stay in
 * the delta, as on a device that does not know them.
 */
export class SimulatedState {
  private led = false;
  private target: number;
  private current: number;

  constructor(initialTemperature: number) {
    this.target = initialTemperature;
    this.current = initialTemperature;
  }

  reported(): Record<string, unknown> {
    return { led: this.led, target_temperature: this.target };
  }

  /** Applies what it can of a delta; returns what it did, to report. */
  apply(delta: Record<string, unknown>): Record<string, unknown> {
    const done: Record<string, unknown> = {};
    if (typeof delta['led'] === 'boolean') {
      this.led = delta['led'];
      done['led'] = this.led;
    }
    const target = delta['target_temperature'];
    if (typeof target === 'number' && target >= 5 && target <= 35) {
      this.target = target;
      done['target_temperature'] = target;
    }
    return done;
  }

  /** One step of the room towards the target. */
  temperature(): number {
    this.current += (this.target - this.current) * 0.1;
    return this.current;
  }
}

/** One line of progress or summary, for people. */
export function formatSummary(s: SimulateSummary): string {
  const ms = (v: number | undefined): string => (v === undefined ? '–' : `${v.toFixed(1)} ms`);
  return (
    `devices ${s.connected}/${s.devices} connected · sent ${s.sent} · acked ${s.acked} · ` +
    `nacked ${s.nacked} · errors ${s.errors} · commands ${s.commands} · ` +
    `ack p50 ${ms(s.ackLatencyP50)} p99 ${ms(s.ackLatencyP99)}`
  );
}

import { setTimeout as delay } from 'node:timers/promises';

import WebSocket from 'ws';

export interface SimulateOptions {
  /** The edge's WebSocket URL, e.g. `ws://127.0.0.1:8080/ws`. */
  url: string;
  tokenFor(deviceId: string): string;
  /** Device ids to simulate. */
  devices: string[];
  /** Telemetry messages per second per device. */
  ratePerSec: number;
  /** Aborting it disconnects every device; the promise then resolves with the summary. */
  signal: AbortSignal;
}

export interface SimulateSummary {
  devices: number;
  /** Telemetry messages sent, and how many the edge acked (stored in its log). */
  sent: number;
  acked: number;
  /** Commands received (each acked back). */
  commands: number;
}

export type SimulateFn = (options: SimulateOptions) => Promise<SimulateSummary>;

/**
 * Simulated devices: each holds one WebSocket, sends `{temperature, humidity}` telemetry with an
 * id at the given rate, and acks every command it receives. A device whose connection drops
 * reconnects after a second while the signal is not aborted.
 */
export const simulate: SimulateFn = async ({ url, tokenFor, devices, ratePerSec, signal }) => {
  const summary: SimulateSummary = { devices: devices.length, sent: 0, acked: 0, commands: 0 };
  await Promise.all(devices.map((id, i) => runDevice(id, i)));
  return summary;

  async function runDevice(deviceId: string, index: number): Promise<void> {
    let seq = 0;
    // A slow drift per device, so charts of several devices are told apart.
    const base = 20 + (index % 10);
    while (!signal.aborted) {
      await new Promise<void>((resolve) => {
        const ws = new WebSocket(`${url}?token=${encodeURIComponent(tokenFor(deviceId))}`);
        let timer: NodeJS.Timeout | undefined;
        const stop = () => ws.close(1000, 'simulation over');
        signal.addEventListener('abort', stop, { once: true });
        ws.on('message', (raw) => {
          const message = JSON.parse(String(raw)) as { type: string; id?: string };
          if (message.type === 'welcome') {
            timer = setInterval(
              () => {
                seq += 1;
                const t = seq / 60;
                ws.send(
                  JSON.stringify({
                    type: 'telemetry',
                    id: `${deviceId}-${Date.now()}-${seq}`,
                    data: {
                      temperature: Math.round((base + 2 * Math.sin(t)) * 10) / 10,
                      humidity: Math.round((45 + 10 * Math.cos(t / 2)) * 10) / 10,
                    },
                  }),
                );
                summary.sent += 1;
              },
              Math.max(1, Math.round(1000 / ratePerSec)),
            );
          } else if (message.type === 'ack') {
            summary.acked += 1;
          } else if (message.type === 'command' && message.id) {
            summary.commands += 1;
            ws.send(JSON.stringify({ type: 'ack', id: message.id }));
          }
        });
        ws.on('error', () => undefined);
        ws.on('close', () => {
          clearInterval(timer);
          signal.removeEventListener('abort', stop);
          resolve();
        });
      });
      if (!signal.aborted) await delay(1000, undefined, { signal }).catch(() => undefined);
    }
  }
};

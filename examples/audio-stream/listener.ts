/**
 * A listener for a device's audio stream: subscribes to `devices/<DEVICE>/streams/audio`, takes
 * the format from the stream's opening, puts the chunks in order, and writes a WAV file when the
 * stream closes (or after a gap it reports: a chunk that never came is silence in the file).
 *
 *   FLEETWIRE_URL=ws://127.0.0.1:8080/ws FLEETWIRE_TOKEN=<dashboard token> DEVICE=bell-1 \
 *     OUT=bell.wav node --conditions=@fleetwire/source --import tsx listener.ts
 */
import { writeFileSync } from 'node:fs';

import { FleetwireClient, type WebSocketConstructor } from '@fleetwire/client';
import WebSocket from 'ws';

import { wavFile } from './wav.js';

const url = process.env['FLEETWIRE_URL'] ?? 'ws://127.0.0.1:8080/ws';
const token = process.env['FLEETWIRE_TOKEN'];
const device = process.env['DEVICE'] ?? 'bell-1';
const out = process.env['OUT'] ?? `${device}.wav`;
if (!token) {
  console.error('set FLEETWIRE_TOKEN to a dashboard token (see README.md)');
  process.exit(2);
}
const topic = `devices/${device}/streams/audio`;

const client = new FleetwireClient({
  url,
  token,
  WebSocket: WebSocket as unknown as WebSocketConstructor,
});
let format = { rate: 16_000, channels: 1 };
const chunks = new Map<number, Uint8Array>();

const finished = new Promise<void>((resolve) => {
  client.on('message', (message) => {
    if (message.kind !== 'stream' || message.topic !== topic) return;
    const data = message.data as { state: string; meta?: { rate?: number; channels?: number } };
    if (data.state === 'open') {
      format = { rate: data.meta?.rate ?? 16_000, channels: data.meta?.channels ?? 1 };
      chunks.clear();
      console.log(`stream open: ${JSON.stringify(data.meta ?? {})}`);
    } else if (data.state === 'closed') {
      resolve();
    }
  });
});
// The chunk's payload is a view into the received frame: copy what is kept.
client.on('chunk', ({ topic: from, seq, payload }) => {
  if (from === topic) chunks.set(seq, payload.slice());
});
await client.connect();
await client.subscribe([topic]);
console.log(`listening on ${topic}`);
await finished;

const count = chunks.size === 0 ? 0 : Math.max(...chunks.keys()) + 1;
const size = chunks.get(0)?.byteLength ?? 0;
const pcm = new Uint8Array(count * size);
let missing = 0;
for (let seq = 0; seq < count; seq++) {
  const chunk = chunks.get(seq);
  if (chunk) pcm.set(chunk, seq * size);
  else missing += 1;
}
writeFileSync(out, wavFile(pcm, format.rate, format.channels));
console.log(`wrote ${out}: ${count} chunks, ${missing} missing`);
client.close();

/**
 * A device (say a doorbell) streaming its microphone: here a generated 440 Hz tone, 16 kHz
 * 16-bit mono (32 KB/s), as 20 ms binary chunks on `devices/<id>/streams/audio`, paced in real
 * time. It announces the format as the stream's `meta`, closes the stream after SECONDS and
 * exits.
 *
 *   FLEETWIRE_URL=ws://127.0.0.1:8080/ws FLEETWIRE_TOKEN=<device token> SECONDS=3 \
 *     node --conditions=@fleetwire/source --import tsx tone-device.ts
 */
import { FleetwireClient, type WebSocketConstructor } from '@fleetwire/client';
import WebSocket from 'ws';

import { FORMAT, SAMPLES_PER_CHUNK, toneChunk } from './tone.js';

const url = process.env['FLEETWIRE_URL'] ?? 'ws://127.0.0.1:8080/ws';
const token = process.env['FLEETWIRE_TOKEN'];
const seconds = Number(process.env['SECONDS'] ?? '3');
if (!token) {
  console.error('set FLEETWIRE_TOKEN to a device token (see README.md)');
  process.exit(2);
}

const client = new FleetwireClient({
  url,
  token,
  WebSocket: WebSocket as unknown as WebSocketConstructor,
});
await client.connect();
const stream = await client.openStream('audio', { meta: { ...FORMAT, tone: 440 } });
console.log(`streaming ${seconds} s of a 440 Hz tone`);

const chunks = Math.round((seconds * FORMAT.rate) / SAMPLES_PER_CHUNK);
const started = performance.now();
let sent = 0;
for (let n = 0; n < chunks; n++) {
  // Real time: chunk n leaves at n × 20 ms, as a microphone would deliver it.
  const due = started + n * 20 - performance.now();
  if (due > 0) await new Promise((resolve) => setTimeout(resolve, due));
  if (stream.write(toneChunk(n * SAMPLES_PER_CHUNK))) sent += 1;
}
await stream.close();
console.log(`sent ${sent} of ${chunks} chunks`);
client.close();

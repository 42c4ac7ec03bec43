import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { afterAll, describe, expect, it } from 'vitest';

import { runExample, startEdge, stopAll } from '../test-edge.js';
import { FORMAT, SAMPLES_PER_CHUNK, toneChunk } from './tone.js';
import { readWav } from './wav.js';

const DIR = fileURLToPath(new URL('.', import.meta.url));

afterAll(() => stopAll());

describe('examples/audio-stream against a real edge', () => {
  it('the WAV the listener writes holds exactly the samples the device sent', async () => {
    const edge = await startEdge();
    const out = join(mkdtempSync(join(tmpdir(), 'fleetwire-wav-')), 'bell.wav');
    const listener = runExample(DIR, 'listener.ts', {
      FLEETWIRE_URL: edge.url,
      FLEETWIRE_TOKEN: await edge.token('dashboard', 'ops'),
      DEVICE: 'bell-1',
      OUT: out,
    });
    await listener.printed((line) => line.startsWith('listening on'));
    const device = runExample(DIR, 'tone-device.ts', {
      FLEETWIRE_URL: edge.url,
      FLEETWIRE_TOKEN: await edge.token('device', 'bell-1'),
      SECONDS: '2',
    });
    const sent = await device.exited;
    expect(sent.code, sent.stderr).toBe(0);
    expect(sent.stdout).toContain('sent 100 of 100 chunks');
    const heard = await listener.exited;
    expect(heard.code, heard.stderr).toBe(0);
    expect(heard.stdout).toContain('stream open: {"rate":16000,"bits":16,"channels":1,"tone":440}');
    expect(heard.stdout).toContain('100 chunks, 0 missing');

    const wav = readWav(readFileSync(out));
    expect([wav.rate, wav.channels, wav.bits]).toEqual([FORMAT.rate, FORMAT.channels, FORMAT.bits]);
    const expected = Buffer.concat(
      Array.from({ length: 100 }, (_, n) => toneChunk(n * SAMPLES_PER_CHUNK)),
    );
    expect(wav.pcm.byteLength).toBe(2 * FORMAT.rate * 2);
    expect(wav.pcm.equals(expected)).toBe(true);
  }, 60_000);
});

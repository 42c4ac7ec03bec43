import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { afterAll, describe, expect, it } from 'vitest';

import {
  killChildren,
  runExample,
  startFleetwire,
  token,
  type Fleetwire,
} from '../test-support.js';
import { FORMAT, SAMPLES_PER_CHUNK, toneChunk } from './tone.js';
import { readWav } from './wav.js';

const DIR = fileURLToPath(new URL('.', import.meta.url));

let fleetwire: Fleetwire | undefined;

afterAll(async () => {
  await fleetwire?.stop();
  killChildren();
});

describe('examples/audio-stream against a real fleetwire', () => {
  it('the WAV the listener writes holds exactly the samples the device sent', async () => {
    fleetwire = await startFleetwire();
    const url = `ws://127.0.0.1:${fleetwire.port}/ws`;
    const out = join(mkdtempSync(join(tmpdir(), 'fleetwire-wav-')), 'bell.wav');
    const listener = runExample(DIR, 'listener.ts', {
      FLEETWIRE_URL: url,
      FLEETWIRE_TOKEN: await token(fleetwire, 'dashboard', 'ops'),
      DEVICE: 'bell-1',
      OUT: out,
    });
    await listener.printed((line) => line.startsWith('listening on'));
    const device = runExample(DIR, 'tone-device.ts', {
      FLEETWIRE_URL: url,
      FLEETWIRE_TOKEN: await token(fleetwire, 'device', 'bell-1'),
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

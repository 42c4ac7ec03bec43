/** The audio format both sides agree on, announced as the stream's `meta`. */
export const FORMAT = { rate: 16_000, bits: 16, channels: 1 } as const;
/** 20 ms of audio per chunk: 320 samples, 640 bytes. */
export const SAMPLES_PER_CHUNK = FORMAT.rate / 50;

/**
 * The tone the device plays: a 440 Hz sine at half scale, sample `from` onwards, as 16-bit
 * little-endian PCM. Deterministic, so a test can compute what the listener must have.
 */
export function toneChunk(from: number, samples = SAMPLES_PER_CHUNK, hz = 440): Uint8Array {
  const pcm = new DataView(new ArrayBuffer(samples * 2));
  for (let i = 0; i < samples; i++) {
    const value = Math.round(Math.sin((2 * Math.PI * hz * (from + i)) / FORMAT.rate) * 16_383);
    pcm.setInt16(i * 2, value, true);
  }
  return new Uint8Array(pcm.buffer);
}

import { describe, expect, it } from 'vitest';
import { resample } from './resample';
import { wavAtRate, wavBytesAtRate, wavLayoutOf } from './wav-stream';
import { encodeWav16, pcm16ToFloat, readWavInfo } from './wav';

const sine = (n: number) => Float32Array.from({ length: n }, (_, i) => 0.6 * Math.sin(i / 5) * Math.cos(i / 977));

async function all(gen: AsyncGenerator<Uint8Array>): Promise<{ bytes: Uint8Array; pieces: number }> {
  const parts: Uint8Array[] = [];
  for await (const p of gen) parts.push(p.slice()); // chunks are views of a reused buffer
  const bytes = new Uint8Array(parts.reduce((s, p) => s + p.length, 0));
  let at = 0;
  for (const p of parts) {
    bytes.set(p, at);
    at += p.length;
  }
  return { bytes, pieces: parts.length };
}

/** -1 when equal; else the first index that differs (toEqual on 100k-element arrays is slow). */
function firstDifference(a: Uint8Array, b: Uint8Array): number {
  if (a.length !== b.length) return Math.min(a.length, b.length);
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return i;
  return -1;
}

describe('wavAtRate', () => {
  const x = sine(16000 * 3 + 17);
  const src = new Blob([encodeWav16(x, 16000)]);

  it('streams a 16 kHz WAV to 44.1 kHz in small slices: same samples as converting it whole', async () => {
    const { bytes, pieces } = await all(wavAtRate(src, 44100, 4000));
    expect(pieces).toBeGreaterThan(20);
    const info = readWavInfo(bytes);
    expect(info).toMatchObject({ sampleRate: 44100, channels: 1, bitsPerSample: 16 });
    expect(bytes.length).toBe(wavBytesAtRate(await wavLayoutOf(src), 44100));
    // The reference: the 16-bit samples of the source, resampled in one go, quantised.
    const q = pcm16ToFloat(encodeWav16(x, 16000).subarray(44));
    const ref = encodeWav16(resample(q, 16000, 44100), 44100);
    expect(firstDifference(bytes, ref)).toBe(-1);
  });

  it('at the same rate, is the file itself', async () => {
    const { bytes } = await all(wavAtRate(src, 16000, 1000));
    expect(firstDifference(bytes, new Uint8Array(await src.arrayBuffer()))).toBe(-1);
  });

  it('refuses what is not a mono 16-bit WAV', async () => {
    await expect(all(wavAtRate(new Blob(['not a wav at all, clearly']), 48000))).rejects.toThrow(/RIFF/);
  });
});

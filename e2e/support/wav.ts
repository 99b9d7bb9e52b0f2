/** Reading the WAVs the app downloads, to check them in Node. */
import { readFileSync } from 'node:fs';
import { readWavInfo } from '../../src/features/export/wav';

export interface Wav {
  sampleRate: number;
  samples: Float32Array;
}

export function readWav16(file: string): Wav {
  const bytes = new Uint8Array(readFileSync(file));
  const info = readWavInfo(bytes);
  if (info.channels !== 1 || info.bitsPerSample !== 16) throw new Error(`Unexpected WAV format ${JSON.stringify(info)}`);
  const dataAt = bytes.length - info.frames * 2;
  const pcm = new Int16Array(bytes.buffer.slice(bytes.byteOffset + dataAt, bytes.byteOffset + bytes.length));
  return { sampleRate: info.sampleRate, samples: Float32Array.from(pcm, (x) => x / 32768) };
}

export function rms(x: Float32Array): number {
  let s = 0;
  for (const v of x) s += v * v;
  return Math.sqrt(s / Math.max(1, x.length));
}

/** Normalised correlation, |1| for copies up to scale. */
export function correlation(a: Float32Array, b: Float32Array): number {
  const n = Math.min(a.length, b.length);
  let ab = 0;
  let aa = 0;
  let bb = 0;
  for (let i = 0; i < n; i++) {
    ab += a[i] * b[i];
    aa += a[i] * a[i];
    bb += b[i] * b[i];
  }
  return ab / Math.sqrt(aa * bb + 1e-20);
}

/**
 * 10·log10(reference power / power of a − b): how closely b reproduces a,
 * against a reference level (the input's) so near-silent tracks are not
 * judged on their noise floor.
 */
export function agreementDb(a: Float32Array, b: Float32Array, reference: Float32Array = a): number {
  const n = Math.min(a.length, b.length);
  let d = 0;
  for (let i = 0; i < n; i++) d += (a[i] - b[i]) ** 2;
  const ref = rms(reference) ** 2;
  return 10 * Math.log10((ref + 1e-20) / (d / Math.max(1, n) + 1e-20));
}

export function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  let m = 0;
  for (let i = 0; i < Math.min(a.length, b.length); i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

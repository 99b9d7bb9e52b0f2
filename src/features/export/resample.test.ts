import { describe, expect, it } from 'vitest';
import { resample, resampledLength, StreamResampler } from './resample';

/** Seeded noise, so a failure is reproducible. */
function noise(n: number, seed = 1): Float32Array {
  let s = seed >>> 0 || 1;
  return Float32Array.from({ length: n }, () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return ((s >>> 0) / 2 ** 32 - 0.5) * 0.8;
  });
}

const sine = (n: number, rate: number, hz: number, phase = 0) => Float32Array.from({ length: n }, (_, i) => 0.5 * Math.sin((2 * Math.PI * hz * i) / rate + phase));

/** Streams `x` through a resampler in chunks of the given sizes (cycled). */
function streamed(x: Float32Array, from: number, to: number, sizes: number[]): { out: Float32Array; joins: number[] } {
  const r = new StreamResampler(from, to);
  const parts: Float32Array[] = [];
  const joins: number[] = [];
  let produced = 0;
  for (let at = 0, k = 0; at < x.length; k++) {
    const n = Math.min(sizes[k % sizes.length], x.length - at);
    const y = r.push(x.subarray(at, at + n)).slice(); // a view until the next push
    parts.push(y);
    produced += y.length;
    joins.push(produced);
    at += n;
  }
  parts.push(r.flush());
  const out = new Float32Array(parts.reduce((s, p) => s + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return { out, joins };
}

describe('StreamResampler', () => {
  for (const to of [44100, 48000, 22050, 8000, 11025, 44056]) {
    it(`16 kHz → ${to} Hz: chunked output equals one-shot output exactly, and keeps the duration`, () => {
      const x = noise(16000 * 2 + 123, to);
      const whole = resample(x, 16000, to);
      expect(whole.length).toBe(resampledLength(x.length, 16000, to));
      // Odd sizes, a 1-sample chunk, an empty chunk and a big one: no join may change a sample.
      const { out } = streamed(x, 16000, to, [1000, 1, 0, 4093, 7, 16000]);
      expect(out.length).toBe(whole.length);
      let maxDiff = 0;
      for (let i = 0; i < out.length; i++) maxDiff = Math.max(maxDiff, Math.abs(out[i] - whole[i]));
      expect(maxDiff).toBe(0);
    });
  }

  it('reproduces a band-limited sine at the new rate (−60 dB), with no click at any chunk join', () => {
    const from = 16000;
    const to = 44100;
    const x = sine(from * 3, from, 997);
    const { out, joins } = streamed(x, from, to, [16000 * 0.37, 3331, 160000].map(Math.round));
    const ideal = sine(out.length, to, 997);
    // Away from the start and end (where the input begins/ends abruptly), the output is the sine itself.
    const margin = 200;
    let err = 0;
    for (let i = margin; i < out.length - margin; i++) err = Math.max(err, Math.abs(out[i] - ideal[i]));
    expect(err).toBeLessThan(0.5 * 1e-3);
    // A click is a jump in the second difference; at the joins it is no larger than anywhere else.
    const d2 = (i: number) => Math.abs(out[i + 1] - 2 * out[i] + out[i - 1]);
    let typical = 0;
    for (let i = margin; i < out.length - margin; i++) typical = Math.max(typical, d2(i));
    for (const j of joins.filter((j) => j > margin && j < out.length - margin)) {
      for (let i = j - 2; i <= j + 2; i++) expect(d2(i)).toBeLessThanOrEqual(typical);
    }
  });

  it('downsampling removes what the new rate cannot hold (no aliasing)', () => {
    // 6 kHz cannot exist at 8 kHz (Nyquist 4 kHz): it must vanish rather than fold to 2 kHz.
    const y = resample(sine(16000, 16000, 6000), 16000, 8000);
    const mid = y.subarray(500, y.length - 500);
    const rms = Math.sqrt(mid.reduce((s, v) => s + v * v, 0) / mid.length);
    expect(rms).toBeLessThan(0.5 * 1e-3);
    // While 1 kHz passes untouched in level.
    const z = resample(sine(16000, 16000, 1000), 16000, 8000).subarray(500, 7500);
    const rz = Math.sqrt(z.reduce((s, v) => s + v * v, 0) / z.length);
    expect(rz).toBeCloseTo(0.5 / Math.SQRT2, 3);
  });

  it('passes DC at unit gain in every phase (no buzz)', () => {
    const y = resample(new Float32Array(16000).fill(0.25), 16000, 44100);
    let worst = 0;
    for (let i = 200; i < y.length - 200; i++) worst = Math.max(worst, Math.abs(y[i] - 0.25));
    expect(worst).toBeLessThan(1e-6);
  });

  it('returns the input untouched at the same rate, and refuses nonsense rates', () => {
    const x = noise(10);
    expect(resample(x, 16000, 16000)).toBe(x);
    expect(() => new StreamResampler(16000, 0)).toThrow(RangeError);
    expect(() => new StreamResampler(16000, 44100.5)).toThrow(RangeError);
  });

  it('handles input shorter than the filter, and nothing at all', () => {
    expect(resample(Float32Array.of(0.5), 16000, 48000).length).toBe(3);
    const r = new StreamResampler(16000, 48000);
    expect(r.flush().length).toBe(0);
  });
});

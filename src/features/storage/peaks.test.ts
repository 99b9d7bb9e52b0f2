import { describe, expect, it } from 'vitest';
import { PeakAccumulator } from './peaks';

function noise(n: number, seed = 7): Float32Array {
  let s = seed;
  return Float32Array.from({ length: n }, () => {
    s = (s * 1103515245 + 12345) >>> 0;
    return (s / 2 ** 32 - 0.5) * 2;
  });
}

/** The definition: min/max (including 0, as the bars start at the axis) of each run of `size` samples. */
function bruteForce(x: Float32Array, size: number): number[] {
  const out: number[] = [];
  for (let at = 0; at < x.length; at += size) {
    let lo = 0;
    let hi = 0;
    for (const v of x.subarray(at, at + size)) {
      lo = Math.min(lo, v);
      hi = Math.max(hi, v);
    }
    out.push(lo, hi);
  }
  return out;
}

describe('PeakAccumulator', () => {
  it('equals the min/max of each bucket after several doublings, however the input is chunked', () => {
    const x = noise(100_003);
    const whole = new PeakAccumulator(64, 4);
    whole.add(x);
    const chunked = new PeakAccumulator(64, 4);
    for (let at = 0, k = 0; at < x.length; k++) {
      const n = [1, 17, 4096, 999][k % 4];
      chunked.add(x.subarray(at, at + n));
      at += n;
    }
    const a = whole.result();
    const b = chunked.result();
    expect(Array.from(b.data)).toEqual(Array.from(a.data));
    expect(a.samples).toBe(x.length);
    // 100 003 samples over ≤ 64 buckets from 4-sample buckets: 4 → … → 2048 samples per bucket.
    expect(a.samplesPerBucket).toBe(2048);
    expect(Array.from(a.data)).toEqual(bruteForce(x, a.samplesPerBucket).map(Math.fround));
  });

  it('stays bounded: never more than maxBuckets buckets, at least half of them once long enough', () => {
    const acc = new PeakAccumulator(128, 1);
    const block = noise(16_000);
    for (let i = 0; i < 60; i++) {
      acc.add(block);
      const n = acc.result().data.length / 2;
      expect(n).toBeLessThanOrEqual(128);
      expect(n).toBeGreaterThanOrEqual(64);
    }
  });

  it('keeps short inputs at fine resolution and empty ones drawable', () => {
    const acc = new PeakAccumulator(4096, 16);
    acc.add(Float32Array.of(0.5, -0.25, 0.1));
    expect(Array.from(acc.result().data)).toEqual([-0.25, 0.5]);
    expect(new PeakAccumulator().result().data.length).toBe(2);
  });

  it('ignores NaN rather than drawing it', () => {
    const acc = new PeakAccumulator(4, 2);
    acc.add(Float32Array.of(Number.NaN, 0.5, -0.5, Number.NaN));
    expect(Array.from(acc.result().data)).toEqual([0, 0.5, -0.5, 0]);
  });
});

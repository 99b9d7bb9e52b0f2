/** Min/max envelope for the waveform view: drawing 16 kHz samples directly would stall the page. */
export function peaks(samples: Float32Array, buckets: number): Float32Array {
  const n = Math.max(1, Math.min(buckets, samples.length));
  const out = new Float32Array(n * 2);
  const step = samples.length / n;
  for (let b = 0; b < n; b++) {
    let lo = 0;
    let hi = 0;
    const end = Math.min(samples.length, Math.floor((b + 1) * step));
    for (let i = Math.floor(b * step); i < end; i++) {
      const x = samples[i];
      if (x < lo) lo = x;
      if (x > hi) hi = x;
    }
    out[2 * b] = lo;
    out[2 * b + 1] = hi;
  }
  return out;
}

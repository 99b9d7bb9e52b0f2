/**
 * Waveform peaks computed as samples stream past, so the results view never
 * needs a track's samples. Buckets start small; whenever there are too many,
 * neighbours merge and the bucket doubles. Memory stays below `maxBuckets`
 * pairs whatever the length: an 8-second clip and a 3-hour lecture both end
 * with between maxBuckets/2 and maxBuckets buckets (when long enough).
 */
export interface Peaks {
  /** Interleaved [min, max] per bucket, in [-1, 1] (the format wavesurfer.js draws). */
  data: Float32Array;
  samplesPerBucket: number;
  /** Samples seen. */
  samples: number;
}

export class PeakAccumulator {
  private readonly mins: Float32Array;
  private readonly maxs: Float32Array;
  private count = 0;
  private size: number;
  private lo = 0;
  private hi = 0;
  private filled = 0;
  private seen = 0;

  constructor(
    private readonly maxBuckets = 4096,
    initialBucket = 16,
  ) {
    if (maxBuckets < 2 || maxBuckets % 2) throw new RangeError('maxBuckets must be even and at least 2');
    this.mins = new Float32Array(maxBuckets);
    this.maxs = new Float32Array(maxBuckets);
    this.size = Math.max(1, Math.floor(initialBucket));
  }

  add(samples: ArrayLike<number>): void {
    let { lo, hi, filled } = this;
    for (let i = 0; i < samples.length; i++) {
      const x = samples[i];
      if (x < lo) lo = x;
      if (x > hi) hi = x;
      if (++filled === this.size) {
        this.push(lo, hi);
        lo = 0;
        hi = 0;
        filled = 0;
      }
    }
    this.lo = lo;
    this.hi = hi;
    this.filled = filled;
    this.seen += samples.length;
  }

  result(): Peaks {
    const n = this.count + (this.filled > 0 ? 1 : 0);
    const data = new Float32Array(Math.max(1, n) * 2);
    for (let b = 0; b < this.count; b++) {
      data[2 * b] = this.mins[b];
      data[2 * b + 1] = this.maxs[b];
    }
    if (this.filled > 0) {
      data[2 * this.count] = this.lo;
      data[2 * this.count + 1] = this.hi;
    }
    return { data, samplesPerBucket: this.size, samples: this.seen };
  }

  private push(lo: number, hi: number): void {
    this.mins[this.count] = lo;
    this.maxs[this.count] = hi;
    if (++this.count < this.maxBuckets) return;
    // Full: halve the resolution. Bucket b becomes the union of 2b and 2b + 1, and the
    // next bucket (empty now) starts exactly where the doubled buckets end.
    const half = this.maxBuckets / 2;
    for (let b = 0; b < half; b++) {
      this.mins[b] = Math.min(this.mins[2 * b], this.mins[2 * b + 1]);
      this.maxs[b] = Math.max(this.maxs[2 * b], this.maxs[2 * b + 1]);
    }
    this.count = half;
    this.size *= 2;
  }
}

/**
 * Streaming sample-rate conversion (16 kHz → the original rate) with a
 * windowed-sinc polyphase filter. Input arrives in chunks of any length; the
 * filter state (the last few input samples, the output position and phase)
 * carries across chunks, so the output is the same, sample for sample, however
 * the input is cut: there are no joins to click. Memory is the filter table
 * plus one chunk, whatever the length of the recording.
 *
 * Why not OfflineAudioContext: it renders a whole buffer at once (a 60-minute
 * track at 48 kHz is 660 MB of float), and rendering it in pieces needs overlap
 * and cross-fades that only hide the joins. Why not a library: none is
 * installed, and this is ~150 lines that the tests pin down.
 */

export interface ResamplerOptions {
  /** Zero crossings of the sinc on each side (filter length). Default 12. */
  zeroCrossings?: number;
  /** Kaiser window beta (stop-band attenuation). Default 8.5 (about −85 dB side lobes). */
  beta?: number;
  /** Pass band as a fraction of the lower Nyquist frequency. Default 0.92. */
  rolloff?: number;
}

/** Filter phases beyond which the table is interpolated rather than exact (odd rates such as 44056 Hz). */
const MAX_EXACT_PHASES = 4096;

function gcd(a: number, b: number): number {
  while (b) [a, b] = [b, a % b];
  return a;
}

/** Modified Bessel function of the first kind, order 0 (for the Kaiser window). */
function besselI0(x: number): number {
  let sum = 1;
  let term = 1;
  const q = (x * x) / 4;
  for (let k = 1; k < 64; k++) {
    term *= q / (k * k);
    sum += term;
    if (term < sum * 1e-17) break;
  }
  return sum;
}

/** How many output frames `inputFrames` frames become: the duration is kept (rounded to a frame). */
export function resampledLength(inputFrames: number, fromRate: number, toRate: number): number {
  return Math.round((inputFrames * toRate) / fromRate);
}

export class StreamResampler {
  /** Output steps per input step, reduced: output n sits at input time n·M/L. */
  private readonly L: number;
  private readonly M: number;
  /** Taps per output sample, and half of it (R): output at input time t uses x[⌊t⌋−R+1 … ⌊t⌋+R]. */
  private readonly K: number;
  private readonly R: number;
  /** Rows of K taps: row r is the filter for fractional position r/P; row P is position 1. */
  private readonly table: Float32Array;
  private readonly P: number;
  private readonly exact: boolean;

  /** Pending input: buf[0] is input sample number bufStart (negative indices are the silence before the start). */
  private buf: Float32Array;
  private len = 0;
  private bufStart: number;
  /** Next output: integer input position i and phase p (0 ≤ p < L), and how many outputs were made. */
  private i = 0;
  private p = 0;
  private produced = 0;
  private pushed = 0;
  private flushed = false;
  /** Output is written here and handed out as a view: no allocation per chunk. */
  private out = new Float32Array(0);

  constructor(
    readonly fromRate: number,
    readonly toRate: number,
    opts: ResamplerOptions = {},
  ) {
    if (!(fromRate > 0 && toRate > 0 && Number.isInteger(fromRate) && Number.isInteger(toRate))) {
      throw new RangeError(`Cannot resample ${fromRate} Hz to ${toRate} Hz`);
    }
    const g = gcd(fromRate, toRate);
    this.L = toRate / g;
    this.M = fromRate / g;
    const zc = opts.zeroCrossings ?? 12;
    const beta = opts.beta ?? 8.5;
    // Cut-off relative to the input's Nyquist: below the lower of the two Nyquist frequencies.
    const fc = Math.min(1, toRate / fromRate) * (opts.rolloff ?? 0.92);
    const width = zc / fc; // half-length of the filter, in input samples
    this.R = Math.ceil(width);
    this.K = 2 * this.R;
    this.exact = this.L <= MAX_EXACT_PHASES;
    this.P = this.exact ? this.L : MAX_EXACT_PHASES;
    this.table = new Float32Array((this.P + 1) * this.K);
    const i0beta = besselI0(beta);
    for (let r = 0; r <= this.P; r++) {
      const frac = r / this.P;
      let sum = 0;
      const row = new Float64Array(this.K);
      for (let j = 0; j < this.K; j++) {
        // Distance from the output time to input sample x[⌊t⌋ − R + 1 + j].
        const tau = frac + this.R - 1 - j;
        const u = tau / width;
        if (Math.abs(u) >= 1) continue;
        const x = fc * tau;
        const sinc = x === 0 ? 1 : Math.sin(Math.PI * x) / (Math.PI * x);
        row[j] = fc * sinc * (besselI0(beta * Math.sqrt(1 - u * u)) / i0beta);
        sum += row[j];
      }
      // Unit gain at DC for every phase: otherwise the gain would ripple with the phase (a faint buzz).
      for (let j = 0; j < this.K; j++) this.table[r * this.K + j] = row[j] / sum;
    }
    this.buf = new Float32Array(this.R + 8192);
    // x[−R … −1] = 0: the recording starts from silence.
    this.len = this.R;
    this.bufStart = -this.R;
  }

  /**
   * Feeds input; returns the output that is now complete (possibly empty), as a
   * view that the next push() or flush() overwrites: use or copy it before then.
   */
  push(input: Float32Array): Float32Array {
    if (this.flushed) throw new Error('The resampler was already flushed');
    this.append(input);
    this.pushed += input.length;
    return this.run(Infinity);
  }

  /** Ends the input; returns the rest (a view, like push()), so that the total is resampledLength(input frames). */
  flush(): Float32Array {
    if (this.flushed) return new Float32Array(0);
    this.flushed = true;
    const total = resampledLength(this.pushed, this.fromRate, this.toRate);
    // The recording ends in silence too.
    this.append(new Float32Array(this.R + Math.ceil(this.M / this.L) + 2));
    return this.run(total - this.produced);
  }

  private append(input: Float32Array): void {
    // Drop what no future output can reach: everything before ⌊t⌋ − R + 1.
    const keepFrom = this.i - this.R + 1 - this.bufStart;
    if (keepFrom > 0) {
      this.buf.copyWithin(0, keepFrom, this.len);
      this.len -= keepFrom;
      this.bufStart += keepFrom;
    }
    if (this.len + input.length > this.buf.length) {
      const grown = new Float32Array(Math.max(this.len + input.length, this.buf.length * 2));
      grown.set(this.buf.subarray(0, this.len));
      this.buf = grown;
    }
    this.buf.set(input, this.len);
    this.len += input.length;
  }

  private run(limit: number): Float32Array {
    const { K, R, L, M, table, buf, exact, P } = this;
    const end = this.bufStart + this.len; // one past the last buffered input index
    const room = Math.max(0, Math.min(limit, Math.ceil(((end - this.i) * L) / M) + 1));
    if (this.out.length < room) this.out = new Float32Array(room);
    const out = this.out;
    let o = 0;
    let i = this.i;
    let p = this.p;
    while (o < room && i + R < end) {
      const base = i - R + 1 - this.bufStart;
      let acc = 0;
      if (exact) {
        // K is even: two accumulators let the engine pipeline the multiply-adds.
        const row = p * K;
        let acc2 = 0;
        for (let j = 0; j < K; j += 2) {
          acc += buf[base + j] * table[row + j];
          acc2 += buf[base + j + 1] * table[row + j + 1];
        }
        acc += acc2;
      } else {
        const pos = (p * P) / L;
        const r = Math.floor(pos);
        const w = pos - r;
        const a = r * K;
        const b = a + K;
        for (let j = 0; j < K; j++) acc += buf[base + j] * (table[a + j] + w * (table[b + j] - table[a + j]));
      }
      out[o++] = acc;
      p += M;
      if (p >= L) {
        i += Math.floor(p / L);
        p %= L;
      }
    }
    this.i = i;
    this.p = p;
    this.produced += o;
    return out.subarray(0, o);
  }
}

/** One-shot conversion of a whole (short) signal; the same numbers as streaming it. */
export function resample(samples: Float32Array, fromRate: number, toRate: number, opts?: ResamplerOptions): Float32Array {
  if (fromRate === toRate) return samples;
  const r = new StreamResampler(fromRate, toRate, opts);
  const a = r.push(samples).slice();
  const b = r.flush();
  const out = new Float32Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

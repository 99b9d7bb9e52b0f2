/**
 * Decoding a long recording as a sequence of short ffmpeg runs whose pieces
 * join into exactly what one run over the whole file gives
 * (`ffmpeg -i X -ac 1 -ar 16000 -f f32le`), so an hour-long video never sits
 * in memory as a whole: each run's output is read, trimmed and let go.
 *
 * Why a run per segment is not simply `-ss T -t D` and concatenation:
 * 1. Warm-up. A decoder started mid-stream needs a little audio before its
 *    output is right (MDCT overlap, the MP3 bit reservoir, Opus pre-roll), and
 *    so does the resampler's filter. Runs start `preRollSec` early and end
 *    past their segment; only the settled middle is kept.
 * 2. Placement. ffmpeg cuts by timestamp, and containers store timestamps
 *    inexactly (WebM/Matroska in ms; start times shifted by codec delay), so a
 *    run's first sample can sit a few samples, or ms, away from where it was
 *    asked. Each run overlaps the previous one and is placed where the two
 *    agree sample for sample (`placeRun`), at the native rate, not where it
 *    was asked.
 * 3. Resampler phase. 16 kHz samples fall between native ones (every 441
 *    samples at 44.1 kHz meet every 160 at 16 kHz): a resampler started off
 *    that grid gives other samples. A run that lands on the grid (MP4, MP3,
 *    WAV, Ogg: always, they seek exactly) gives its 16 kHz output directly. A
 *    run that lands off it (measured: WebM/Matroska, often) is decoded again
 *    at the native rate and resampled over a window that starts on a whole
 *    second (always on both grids), with a margin each side for the filter.
 *
 * So a run yields its 16 kHz output plus two short stretches of native audio:
 * its head (to be placed against the previous run) and its tail (to place the
 * next one). Whole native runs are only decoded for runs off the grid.
 *
 * Exact for every decoder that is deterministic given a few frames of
 * history. Not for AAC streams with perceptual noise substitution: the decoder
 * fills those bands with noise from a random generator that restarts with each
 * run, so they differ by noise of the same level (measured 30-40 dB SNR over
 * the whole file; elsewhere, bit for bit).
 *
 * Pure: ffmpeg sits behind SegmentSource, so all of this is unit-tested with a fake.
 */

/** What one ffmpeg run over part of the stream gives. */
export interface SegmentRun {
  /** The run resampled to the output rate, by one resampler from the run's first sample to its end. */
  out: Float32Array;
  /** The run's first native samples (as many as asked, fewer if the run is shorter). */
  head: Float32Array;
  /** The run's native samples from the asked `tailFrom` to its end (empty if the run ends before). */
  tail: Float32Array;
  /** Native samples in the run; null when it ended between its head and `tailFrom` (so it is short). */
  length: number | null;
}

export interface SegmentSource {
  /**
   * Decodes the first audio stream from `startSec` (0: from the very
   * beginning, no seeking) for at most `durationSec` seconds (fewer when the
   * stream ends first), downmixed to mono: resampled to the output rate, plus
   * its first `head` and its samples from `tailFrom` on at the native rate.
   */
  run(startSec: number, durationSec: number, head: number, tailFrom: number): Promise<SegmentRun>;
  /** The same run, whole, mono at the native rate (asked only for runs that land off the resampler's grid). */
  native(startSec: number, durationSec: number): Promise<Float32Array>;
  /** Resamples a standalone run of native mono samples to the output rate, with the resampler one whole-file run uses. May take over (transfer) `native`'s buffer. */
  resample(native: Float32Array): Promise<Float32Array>;
}

export interface SegmentOptions {
  /** Native sample rate (Hz, integer): what `decode` returns. */
  rate: number;
  /** Output sample rate (Hz, integer). */
  outRate: number;
  /** Whole seconds of output per segment. */
  segmentSec: number;
  /** Decoded before each segment (after the first) for the decoder to settle and for placement. */
  preRollSec?: number;
  /** How far (s) from where it was asked a run may land and still be placed. */
  searchSec?: number;
}

export type JoinHow = 'exact' | 'matched' | 'silent' | 'unmatched';

/** How a run was placed against the previous one. */
export interface Join {
  /** exact: bit-identical where asked; matched: best agreement found by search; silent/unmatched: nothing to compare, or no agreement: placed where asked. */
  how: JoinHow;
  /** Where the run landed relative to where it was asked, in native samples. */
  drift: number;
  /** Agreement on the overlap (signal-to-difference, dB); Infinity when identical, null when not compared. */
  agreementDb: number | null;
  /** The run landed on the resampler's grid, so its own 16 kHz output was used (else: decoded again and resampled). */
  direct: boolean;
}

export interface Segment {
  /** Index of samples[0] in the whole output. */
  start: number;
  /** Output-rate samples; the segment owns this buffer. */
  samples: Float32Array;
  /** The last segment: the stream ended in it. */
  final: boolean;
  /** How this segment's run was placed; null for the first. */
  join: Join | null;
}

/** A run that cannot be placed or does not advance: the file's timestamps cannot be trusted for seeking. */
export class SegmentError extends Error {}

export const gcd = (a: number, b: number): number => {
  while (b) [a, b] = [b, a % b];
  return a;
};

/**
 * Native samples after which the resampler's grid repeats: a window starting
 * at a multiple of this meets whole output samples (441 at 44.1 kHz → 16 kHz,
 * 3 at 48 kHz). A whole second is always a multiple.
 */
export function resamplePeriod(rate: number, outRate: number): number {
  if (!Number.isInteger(rate) || !Number.isInteger(outRate) || rate <= 0 || outRate <= 0) throw new RangeError(`sample rates must be positive integers (${rate}, ${outRate})`);
  return rate / gcd(rate, outRate);
}

/** Margin (native samples) on each side of a resampled window: at least `minSec`, a multiple of the period. */
export function resampleMargin(rate: number, outRate: number, minSec = 0.05): number {
  const p = resamplePeriod(rate, outRate);
  return Math.max(1, Math.ceil((minSec * rate) / p)) * p;
}

export interface PlaceOptions {
  /** Search this many samples either side of `predicted`. */
  search: number;
  /** The first `settle` samples of a run are not trusted (the decoder is still warming up). */
  settle: number;
  /** Samples compared to confirm a placement. */
  window?: number;
  /** Samples compared for each candidate while searching. */
  probe?: number;
  /** Least agreement (dB) that counts as found. */
  minAgreementDb?: number;
}

export interface Placement {
  /** Stream index of run[0]. */
  offset: number;
  how: JoinHow;
  agreementDb: number | null;
}

function energy(a: Float32Array, from: number, n: number): number {
  let e = 0;
  for (let i = from; i < from + n; i++) e += a[i] * a[i];
  return e;
}

/** Start of the `n`-sample stretch of a[lo, hi) with the most energy (checked every n/4 samples). */
function loudest(a: Float32Array, lo: number, hi: number, n: number): number {
  let best = lo;
  let bestE = -1;
  const step = Math.max(1, n >> 2);
  for (let s = lo; s + n <= hi; s += step) {
    const e = energy(a, s, n);
    if (e > bestE) {
      bestE = e;
      best = s;
    }
  }
  return best;
}

/** Sum of squared differences of ref[r..r+n) and run[x..x+n), giving up (Infinity) past `limit`. */
function sse(ref: Float32Array, r: number, run: Float32Array, x: number, n: number, limit = Infinity): number {
  let s = 0;
  for (let i = 0; i < n; i++) {
    const d = ref[r + i] - run[x + i];
    s += d * d;
    if (s > limit) return Infinity;
  }
  return s;
}

const db = (signal: number, diff: number) => (diff === 0 ? Infinity : 10 * Math.log10(signal / diff));

/**
 * Where `run` lies in the stream: the index of run[0]. `ref` holds samples
 * already placed, at stream indices [refStart, refStart + ref.length);
 * `predicted` is where run[0] lies if the seek was exact. The loudest stretch
 * of the overlap is compared: at `predicted` first (exact in most files), then
 * at every offset within ±search, nearest first, so a periodic signal keeps
 * the nearest of its equally good placements. Silence, or an overlap that
 * agrees nowhere, leaves the run where it was asked.
 */
export function placeRun(ref: Float32Array, refStart: number, run: Float32Array, predicted: number, o: PlaceOptions): Placement {
  const W = o.window ?? 4096;
  const P = Math.min(o.probe ?? 512, W);
  const minDb = o.minAgreementDb ?? 10;
  const asked: Placement = { offset: predicted, how: 'unmatched', agreementDb: null };
  // The part of ref that the run covers (settled) wherever it lands within the search.
  const lo = Math.max(refStart, predicted + o.search + o.settle);
  const hi = Math.min(refStart + ref.length, predicted - o.search + run.length);
  // Too little overlap to search it whole: compare where it was asked only.
  const narrow = hi - lo < W;
  const cLo = narrow ? Math.max(refStart, predicted + o.settle) : lo;
  const cHi = narrow ? Math.min(refStart + ref.length, predicted + run.length) : hi;
  const n = Math.min(W, cHi - cLo);
  if (n < Math.min(P, 64)) return asked;
  const w = loudest(ref, cLo - refStart, cHi - refStart, n); // in ref
  const g = refStart + w; // stream index of the window
  const e = energy(ref, w, n);
  if (e === 0) return { ...asked, how: 'silent' };
  const exact = sse(ref, w, run, g - predicted, n);
  if (exact === 0) return { offset: predicted, how: 'exact', agreementDb: Infinity };
  if (narrow) {
    const a = db(e, exact);
    return a >= minDb ? { offset: predicted, how: 'matched', agreementDb: a } : { ...asked, agreementDb: a };
  }
  // Close but not identical where asked (a decoder that adds noise), and worse one sample either side:
  // that is the place. (One sample off still agrees to ~25 dB on speech at 48 kHz, so a bare threshold would not do.)
  const a0 = db(e, exact);
  if (a0 >= 2 * minDb && exact < sse(ref, w, run, g - predicted + 1, n) && exact < sse(ref, w, run, g - predicted - 1, n)) {
    return { offset: predicted, how: 'matched', agreementDb: a0 };
  }
  // Search: a short probe inside the window ranks every offset; the best few are confirmed on the whole window.
  const p = loudest(ref, w, w + n, P);
  const top: { sse: number; d: number }[] = [];
  const K = 6;
  for (let k = 0; k <= 2 * o.search; k++) {
    const d = k & 1 ? (k + 1) >> 1 : -(k >> 1); // 0, 1, -1, 2, -2, …
    const limit = top.length === K ? top[K - 1].sse : Infinity;
    const s = sse(ref, p, run, refStart + p - (predicted + d), P, limit);
    if (s === Infinity || (top.length === K && s >= limit)) continue;
    top.push({ sse: s, d });
    top.sort((x, y) => x.sse - y.sse);
    if (top.length > K) top.pop();
  }
  let best: { full: number; d: number } | null = null;
  for (const c of top) {
    const full = sse(ref, w, run, g - (predicted + c.d), n);
    if (!best || full < best.full || (full === best.full && Math.abs(c.d) < Math.abs(best.d))) best = { full, d: c.d };
  }
  if (!best) return asked;
  const a = db(e, best.full);
  if (a < minDb) return { ...asked, agreementDb: a };
  return { offset: predicted + best.d, how: best.full === 0 ? 'exact' : 'matched', agreementDb: a };
}

/** What a decode that reads segments needs to know of the plan (exported for tests and logs). */
export interface SegmentPlan {
  /** Native samples of resampler margin on each side of a window. */
  margin: number;
  /** Native samples at the end of a cut-off run that are not used. */
  guard: number;
  preRollSec: number;
  /** Seconds decoded past a segment's end. */
  postRollSec: number;
  /** Native samples of a run that are not trusted (decoder warm-up). */
  settle: number;
  search: number;
  /** Native samples at the end of a segment kept (with the run's post-roll) to place the next run. */
  keep: number;
  /** Native samples at the start of a run returned to place it. */
  head: number;
}

export function segmentPlan(o: SegmentOptions): SegmentPlan {
  const N = o.rate;
  resamplePeriod(N, o.outRate); // validates the rates
  if (!Number.isInteger(o.segmentSec) || o.segmentSec < 1) throw new RangeError('segmentSec must be a positive integer');
  const margin = resampleMargin(N, o.outRate);
  const guard = Math.round(0.05 * N);
  const search = Math.round((o.searchSec ?? 1) * N);
  const settle = Math.round(0.5 * N);
  const preRollSec = o.preRollSec ?? 3;
  // The comparison region reaches up to 1 s past a boundary; the next window needs margin + guard.
  const postRollSec = Math.ceil(((margin + guard) / N + 1) * 1000) / 1000;
  const keep = margin + 2 * N;
  // From the run's start to past the previous run's end, wherever within the search it lands.
  const head = Math.ceil((preRollSec + postRollSec) * N) + search;
  return { margin, guard, preRollSec, postRollSec, settle, search, keep, head };
}

/**
 * Decodes the whole stream as a sequence of segments of `segmentSec` seconds
 * (the last one shorter), each yielded as soon as it is ready; asking for the
 * next one starts its ffmpeg runs. Stops after the run that reaches the end of
 * the stream (fewer samples than asked), so a missing or wrong duration in the
 * file does not matter.
 */
export async function* decodeInSegments(src: SegmentSource, o: SegmentOptions): AsyncGenerator<Segment> {
  const N = o.rate;
  const R = o.outRate;
  const plan = segmentPlan(o);
  const period = resamplePeriod(N, R);
  const { margin: M, guard } = plan;
  let S = 0; // this segment's first second
  let drift = 0; // where the last placed run landed relative to where it was asked
  let prev: { data: Float32Array; start: number } | null = null; // the previous run's tail, placed
  for (;;) {
    const E0 = S + o.segmentSec;
    const A = prev ? Math.max(0, S - plan.preRollSec) : 0;
    const dur = E0 + plan.postRollSec - A;
    const tailFrom = Math.max(0, (E0 - A) * N - plan.keep);
    const run = await src.run(A, dur, prev ? plan.head : 0, tailFrom);
    let offset = 0; // stream index of the run's first sample
    let join: Join | null = null;
    if (prev) {
      const p = placeRun(prev.data, prev.start, run.head, A * N + drift, { search: plan.search, settle: plan.settle });
      offset = p.offset;
      if (p.how === 'exact' || p.how === 'matched') drift = offset - A * N;
      join = { how: p.how, drift: offset - A * N, agreementDb: p.agreementDb, direct: true };
    }
    const short = run.length === null || run.length < Math.round(dur * N) - Math.round(0.1 * N);
    const end = run.length === null ? null : offset + run.length; // stream index past the run's last sample
    let E: number | null; // this segment's end (s); null: the end of the stream
    if (end !== null && end >= E0 * N + M + guard) E = E0;
    else if (short) E = null;
    else {
      // Landed early: the run stops before this segment's end. Take what it covers.
      E = Math.floor((end! - M - guard) / N);
      if (E <= S) throw new SegmentError(`a run asked at ${A} s did not reach past ${S} s`);
    }

    let samples: Float32Array;
    if (offset % period === 0) {
      // On the grid: the run's own resampler output lines up with the whole-file one.
      const j0 = (offset / N) * R;
      const from = S * R - j0;
      const to = E === null ? run.out.length : E * R - j0;
      if (from < 0 || to > run.out.length) throw new SegmentError(`the run at ${A} s does not cover ${S}-${E ?? 'end'} s`);
      samples = run.out.slice(from, Math.max(from, to));
    } else {
      join!.direct = false;
      samples = await resampleWindow(src, o, plan, prev!, A, dur, offset, S, E);
    }
    if (E !== null) {
      if (run.tail.length === 0 || offset + tailFrom > E * N - M - plan.settle) throw new SegmentError(`the run at ${A} s ended before ${E} s`);
      prev = { data: run.tail, start: offset + tailFrom };
    }
    yield { start: S * R, samples, final: E === null, join };
    if (E === null) return;
    S = E;
  }
}

/**
 * For a run that landed off the resampler's grid: decodes it again at the
 * native rate and resamples the window [S - margin, E + margin) (to the end of
 * the stream when E is null), which starts on a whole second. Samples before
 * the run has settled come from the previous run's tail.
 */
async function resampleWindow(
  src: SegmentSource,
  o: SegmentOptions,
  plan: SegmentPlan,
  prev: { data: Float32Array; start: number },
  A: number,
  dur: number,
  placed: number,
  S: number,
  E: number | null,
): Promise<Float32Array> {
  const N = o.rate;
  const R = o.outRate;
  const M = plan.margin;
  const x = await src.native(A, dur);
  // The same command lands in the same place; should it not, place this run too.
  const offset = placeRun(prev.data, prev.start, x, placed, { search: plan.search, settle: plan.settle }).offset;
  const end = offset + x.length;
  const a = S * N - M;
  const b = E === null ? end : E * N + M;
  if (b > end || b <= S * N) throw new SegmentError(`the run at ${A} s does not cover ${S}-${E ?? 'end'} s`);
  const splice = Math.max(S * N, offset + plan.settle);
  if (splice > prev.start + prev.data.length - plan.guard || a < prev.start) throw new SegmentError(`runs near ${S} s do not overlap`);
  const w = new Float32Array(b - a);
  w.set(prev.data.subarray(a - prev.start, splice - prev.start), 0);
  w.set(x.subarray(splice - offset, b - offset), splice - a);
  const y = await src.resample(w);
  const skip = (M * R) / N;
  const take = E === null ? y.length - skip : (E - S) * R;
  if (take < 0 || y.length < skip + take) throw new SegmentError(`the resampler returned ${y.length} samples, expected ${skip + take}`);
  return y.slice(skip, skip + take);
}

/**
 * Yields what `source` yields while it already works on the next item, so a
 * slow consumer and the producer overlap; at most one item waits, so the
 * producer never runs further ahead than that.
 */
export async function* readAhead<T>(source: AsyncIterator<T>): AsyncGenerator<T> {
  let next = source.next();
  try {
    for (;;) {
      const r = await next;
      if (r.done) return;
      next = source.next();
      next.catch(() => {}); // surfaces when awaited; not unhandled if the consumer stops first
      yield r.value;
    }
  } finally {
    // The consumer stopped early (or failed): stop the producer once its current step ends.
    void next.then(() => source.return?.(undefined)).catch(() => {});
  }
}

/**
 * Streaming chunked separation with overlap-add and cross-window speaker
 * alignment. Pure: the model is a function, so this runs the same under
 * Vitest, onnxruntime-node and onnxruntime-web.
 *
 * Windows of W = chunkSeconds samples start every H = W − O samples
 * (O = overlapSeconds). Window k covers [kH, kH + W); consecutive windows
 * share O samples, where the earlier one fades out and the later one fades
 * in with complementary weights (wOut + wIn = 1 at every sample), so a model
 * that is pointwise in time gives the one-piece result exactly (up to float
 * rounding). The last window is partial: it runs on whatever is left (always
 * more than O samples, or the whole input if that is shorter than W).
 *
 * Speaker outputs of a separation model come in an arbitrary order per call,
 * so before mixing, each window's speaker outputs are permuted to best match
 * the previous (already aligned) window on their shared O samples: the
 * permutation minimising the summed squared error, i.e. maximising the summed
 * inner products. Background outputs keep their index.
 *
 * Memory is bounded: it holds at most one window of input plus what one push
 * brings, and O samples of pending output per source. Finalized output is
 * handed back as blocks, in order, covering [0, total) exactly once.
 */
import { VoxError } from '../../lib/errors';
import { MODEL_SAMPLE_RATE } from '../../lib/limits';
import type { SeparatedBlock } from '../../pipeline/types';
import type { SourceKind } from '../model/manifest';

export interface WindowInfo {
  /** Index of the window's first sample in the whole input. */
  start: number;
  /** 0, 1, 2… */
  index: number;
}

/** Runs the model on one window of mono samples; returns one array per output (S), each as long as the window. */
export type RunModel = (window: Float32Array, info: WindowInfo) => Promise<Float32Array[]>;

export interface ChunkerOptions {
  chunkSeconds: number;
  overlapSeconds: number;
  /** Default: the model rate, 16 kHz. */
  sampleRate?: number;
  /**
   * The kind of each output, in model order (the manifest's sources). When
   * given, the model must return exactly this many outputs; only 'speaker'
   * outputs are permuted. When omitted, every output is a speaker.
   */
  kinds?: readonly SourceKind[];
  /**
   * Windows shorter than this (only possible when the whole input is shorter)
   * are zero-padded to this length for the model and trimmed after. Default 0.
   */
  minWindowSamples?: number;
}

export interface ChunkerGeometry {
  windowSamples: number;
  overlapSamples: number;
  hopSamples: number;
}

export function chunkGeometry(opts: Pick<ChunkerOptions, 'chunkSeconds' | 'overlapSeconds' | 'sampleRate'>): ChunkerGeometry {
  const rate = opts.sampleRate ?? MODEL_SAMPLE_RATE;
  const windowSamples = Math.round(opts.chunkSeconds * rate);
  const overlapSamples = Math.round(opts.overlapSeconds * rate);
  if (!(windowSamples > 0) || !(overlapSamples >= 0) || overlapSamples * 2 >= windowSamples) {
    throw new VoxError('model-manifest-invalid', `Chunking needs 0 ≤ 2·overlap < chunk (got ${windowSamples} and ${overlapSamples} samples).`);
  }
  return { windowSamples, overlapSamples, hopSamples: windowSamples - overlapSamples };
}

/**
 * Complementary cross-fade over the overlap: wIn rises as sin² from ~0 to ~1,
 * wOut = 1 − wIn. Float64 so that wIn + wOut is 1 to double precision.
 */
export function crossFade(overlapSamples: number): { wIn: Float64Array; wOut: Float64Array } {
  const wIn = new Float64Array(overlapSamples);
  const wOut = new Float64Array(overlapSamples);
  for (let j = 0; j < overlapSamples; j++) {
    const s = Math.sin((Math.PI / 2) * ((j + 0.5) / overlapSamples));
    wIn[j] = s * s;
    wOut[j] = 1 - wIn[j];
  }
  return { wIn, wOut };
}

function dot(a: Float32Array, b: Float32Array, n: number): number {
  let s = 0;
  for (let i = 0; i < n; i++) s += a[i] * b[i];
  return s;
}

function permutations(n: number): number[][] {
  if (n <= 1) return [Array.from({ length: n }, (_, i) => i)];
  const out: number[][] = [];
  for (const rest of permutations(n - 1)) {
    for (let at = 0; at <= rest.length; at++) out.push([...rest.slice(0, at), n - 1, ...rest.slice(at)]);
  }
  return out;
}

/**
 * The permutation p (cur speaker p[i] goes to slot i) maximising
 * Σ_i ⟨prev_i, cur_p[i]⟩ over the first n samples, which is the permutation
 * minimising Σ_i ‖prev_i − cur_p[i]‖². The identity wins ties. Exhaustive up
 * to 7 speakers, greedy beyond.
 */
export function bestPermutation(prev: Float32Array[], cur: Float32Array[], n: number): number[] {
  const k = prev.length;
  const identity = Array.from({ length: k }, (_, i) => i);
  if (k <= 1 || n <= 0) return identity;
  const score: number[][] = prev.map((p) => cur.map((c) => dot(p, c, n)));
  if (k > 7) {
    const used = new Set<number>();
    return identity.map((i) => {
      let best = -1;
      for (let j = 0; j < k; j++) if (!used.has(j) && (best < 0 || score[i][j] > score[i][best])) best = j;
      used.add(best);
      return best;
    });
  }
  let best = identity;
  let bestScore = identity.reduce((s, j, i) => s + score[i][j], 0);
  for (const p of permutations(k)) {
    const s = p.reduce((acc, j, i) => acc + score[i][j], 0);
    if (s > bestScore) {
      bestScore = s;
      best = p;
    }
  }
  return best;
}

export class ChunkedSeparator {
  readonly geometry: ChunkerGeometry;
  private readonly runModel: RunModel;
  private readonly kinds?: readonly SourceKind[];
  private readonly minWindow: number;
  private readonly wIn: Float64Array;
  private readonly wOut: Float64Array;

  /** Input not yet consumed: buf[0] is sample bufStart. */
  private buf = new Float32Array(0);
  private bufStart = 0;
  private bufLen = 0;
  /** Start of the next window to run. */
  private nextStart = 0;
  private windowIndex = 0;
  /** The previous window's aligned output over [nextStart, nextStart + O), not yet emitted. */
  private tail: Float32Array[] | null = null;
  private numSources = -1;
  private speakers: number[] = [];
  private emitted = 0;
  private finished = false;
  private failure: unknown = null;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(runModel: RunModel, opts: ChunkerOptions) {
    this.runModel = runModel;
    this.geometry = chunkGeometry(opts);
    this.kinds = opts.kinds;
    this.minWindow = Math.max(0, Math.floor(opts.minWindowSamples ?? 0));
    ({ wIn: this.wIn, wOut: this.wOut } = crossFade(this.geometry.overlapSamples));
  }

  /** Samples pushed so far. */
  get samplesIn(): number {
    return this.bufStart + this.bufLen;
  }

  /** Samples finalized (emitted) so far. */
  get samplesOut(): number {
    return this.emitted;
  }

  /** Number of model outputs (S), known after the first window ran; −1 before. */
  get sources(): number {
    return this.numSources;
  }

  /** Adds input; resolves with the blocks this made final (maybe none). Calls are serialized. */
  push(samples: Float32Array): Promise<SeparatedBlock[]> {
    return this.enqueue(async () => {
      if (this.finished) throw new VoxError('internal', 'push() after finish().');
      this.append(samples);
      const out: SeparatedBlock[] = [];
      const { windowSamples } = this.geometry;
      while (this.samplesIn - this.nextStart >= windowSamples) {
        out.push(await this.runWindow(this.nextStart, windowSamples, false));
      }
      return out;
    });
  }

  /** Ends the input; resolves with every remaining block. */
  finish(): Promise<SeparatedBlock[]> {
    return this.enqueue(async () => {
      if (this.finished) return [];
      this.finished = true;
      const out: SeparatedBlock[] = [];
      const rest = this.samplesIn - this.nextStart;
      if (this.windowIndex === 0) {
        if (rest > 0) out.push(await this.runWindow(this.nextStart, rest, true));
      } else if (rest > this.geometry.overlapSamples) {
        out.push(await this.runWindow(this.nextStart, rest, true));
      } else if (this.tail && this.tail[0].length > 0) {
        // The input ended exactly where the last full window did: its tail is final as it is.
        out.push({ start: this.nextStart, sources: this.tail });
        this.emitted = this.nextStart + this.tail[0].length;
      }
      this.tail = null;
      this.buf = new Float32Array(0);
      this.bufLen = 0;
      return out;
    });
  }

  private enqueue<T>(job: () => Promise<T>): Promise<T> {
    const run = async (): Promise<T> => {
      if (this.failure !== null) throw this.failure;
      try {
        return await job();
      } catch (e) {
        this.failure = e;
        throw e;
      }
    };
    const p = this.queue.then(run, run);
    this.queue = p.catch(() => undefined);
    return p;
  }

  private append(samples: Float32Array): void {
    if (samples.length === 0) return;
    // Drop what no future window needs.
    const drop = this.nextStart - this.bufStart;
    if (drop > 0) {
      this.buf.copyWithin(0, drop, this.bufLen);
      this.bufLen -= drop;
      this.bufStart = this.nextStart;
    }
    const need = this.bufLen + samples.length;
    if (need > this.buf.length) {
      const grown = new Float32Array(Math.max(need, this.geometry.windowSamples, Math.ceil(this.buf.length * 1.5)));
      grown.set(this.buf.subarray(0, this.bufLen));
      this.buf = grown;
    }
    this.buf.set(samples, this.bufLen);
    this.bufLen += samples.length;
  }

  private checkOutputs(outs: Float32Array[], length: number): void {
    if (!Array.isArray(outs) || outs.length === 0) throw new VoxError('model-contract-broken', 'The model returned no outputs.');
    if (this.numSources < 0) {
      if (this.kinds && this.kinds.length !== outs.length) {
        throw new VoxError('model-contract-broken', `The model returned ${outs.length} outputs; its manifest declares ${this.kinds.length}.`);
      }
      this.numSources = outs.length;
      this.speakers = outs.map((_, i) => i).filter((i) => !this.kinds || this.kinds[i] === 'speaker');
    } else if (outs.length !== this.numSources) {
      throw new VoxError('model-contract-broken', `The model returned ${outs.length} outputs, then ${this.numSources}.`);
    }
    for (const o of outs) {
      if (!(o instanceof Float32Array) || o.length !== length) {
        throw new VoxError('model-contract-broken', `The model returned an output of ${o?.length} samples for an input of ${length}.`);
      }
    }
  }

  private async runWindow(start: number, length: number, final: boolean): Promise<SeparatedBlock> {
    const { hopSamples, overlapSamples } = this.geometry;
    const from = start - this.bufStart;
    let input = this.buf.subarray(from, from + length);
    const modelLength = Math.max(length, this.minWindow);
    if (modelLength > length) {
      const padded = new Float32Array(modelLength);
      padded.set(input);
      input = padded;
    } else {
      // A copy: the model (or a worker transfer) must never see or keep our buffer.
      input = input.slice();
    }
    const raw = await this.runModel(input, { start, index: this.windowIndex });
    this.checkOutputs(raw, modelLength);
    let cur = modelLength > length ? raw.map((o) => o.subarray(0, length)) : raw;

    // Align speakers to the previous window on the overlap.
    const prev = this.tail;
    const overlap = prev ? overlapSamples : 0;
    if (prev && overlap > 0 && this.speakers.length > 1) {
      const p = bestPermutation(
        this.speakers.map((i) => prev[i]),
        this.speakers.map((i) => cur[i]),
        overlap,
      );
      if (p.some((j, i) => j !== i)) {
        const aligned = cur.slice();
        this.speakers.forEach((slot, i) => {
          aligned[slot] = cur[this.speakers[p[i]]];
        });
        cur = aligned;
      }
    }

    const end = final ? start + length : start + hopSamples;
    const n = end - start;
    const sources = cur.map((c, s) => {
      const block = new Float32Array(n);
      if (prev && overlap > 0) {
        const t = prev[s];
        for (let j = 0; j < overlap; j++) block[j] = t[j] * this.wOut[j] + c[j] * this.wIn[j];
        block.set(c.subarray(overlap, n), overlap);
      } else {
        block.set(c.subarray(0, n));
      }
      return block;
    });
    this.tail = final ? null : cur.map((c) => c.slice(n, length));
    this.nextStart = end;
    this.windowIndex++;
    this.emitted = end;
    return { start, sources };
  }
}

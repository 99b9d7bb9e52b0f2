import { describe, expect, it } from 'vitest';
import type { SeparatedBlock } from '../../pipeline/types';
import { bestPermutation, ChunkedSeparator, chunkGeometry, crossFade, type RunModel } from './chunking';

/** Tolerance for "equal up to float rounding": values are |x| ≤ ~2 and each output sample is one
 *  weighted sum a·wOut + a·wIn with wOut + wIn = 1 in float64, stored as float32 (rel. error ≤ 2^-24). */
const ROUNDING = 1e-6;

// Small geometry so tests are fast: 1 s window, 0.25 s overlap at 100 Hz → W=100, O=25, H=75.
const RATE = 100;
const OPTS = { chunkSeconds: 1, overlapSeconds: 0.25, sampleRate: RATE };

/** A deterministic pseudo-random signal. */
function signal(n: number, seed = 1): Float32Array {
  const out = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = (s / 2 ** 32) * 2 - 1;
  }
  return out;
}

/** Pointwise in time: each output sample depends only on the same input sample. */
const pointwise: RunModel = async (w) => [w.map((x) => 0.5 * x), w.map((x) => x * x - 0.3), w.map((x) => Math.tanh(3 * x))];

async function runAll(model: RunModel, input: Float32Array, pushSizes: number[] | number, opts: object = OPTS) {
  const sep = new ChunkedSeparator(model, { ...OPTS, ...opts });
  const blocks: SeparatedBlock[] = [];
  let at = 0;
  let i = 0;
  while (at < input.length) {
    const size = Array.isArray(pushSizes) ? pushSizes[i++ % pushSizes.length] : pushSizes;
    const piece = input.slice(at, Math.min(input.length, at + size));
    at += piece.length;
    blocks.push(...(await sep.push(piece)));
  }
  blocks.push(...(await sep.finish()));
  return { blocks, sep };
}

/** Concatenates blocks, checking they tile [0, total) exactly once, in order. */
function assemble(blocks: SeparatedBlock[], total: number): Float32Array[] {
  let at = 0;
  const S = blocks[0]?.sources.length ?? 0;
  const out = Array.from({ length: S }, () => new Float32Array(total));
  for (const b of blocks) {
    expect(b.start).toBe(at);
    expect(b.sources.length).toBe(S);
    const n = b.sources[0].length;
    for (const s of b.sources) expect(s.length).toBe(n);
    b.sources.forEach((s, i) => out[i].set(s, b.start));
    at += n;
  }
  expect(at).toBe(total);
  return out;
}

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

describe('chunk geometry and cross-fade', () => {
  it('derives window, overlap and hop in samples', () => {
    expect(chunkGeometry({ chunkSeconds: 8, overlapSeconds: 1 })).toEqual({ windowSamples: 128000, overlapSamples: 16000, hopSamples: 112000 });
    expect(() => chunkGeometry({ chunkSeconds: 1, overlapSeconds: 0.5 })).toThrow(/overlap/);
  });

  it('has complementary weights that sum to 1 on the overlap', () => {
    const { wIn, wOut } = crossFade(25);
    for (let j = 0; j < 25; j++) expect(wIn[j] + wOut[j]).toBeCloseTo(1, 15);
    expect(wIn[0]).toBeLessThan(0.01);
    expect(wIn[24]).toBeGreaterThan(0.99);
    for (let j = 1; j < 25; j++) expect(wIn[j]).toBeGreaterThan(wIn[j - 1]);
  });
});

describe('ChunkedSeparator with a pointwise model', () => {
  const lengths = [0, 1, 7, 99, 100, 101, 124, 125, 126, 175, 176, 200, 1000, 1003, 2417];
  for (const n of lengths) {
    it(`equals the one-piece result for ${n} samples (max abs diff ≤ ${ROUNDING})`, async () => {
      const input = signal(n);
      const whole = await pointwise(input, { start: 0, index: 0 });
      const { blocks, sep } = await runAll(pointwise, input, 37);
      if (n === 0) {
        expect(blocks).toEqual([]);
        return;
      }
      const got = assemble(blocks, n);
      expect(sep.sources).toBe(3);
      expect(sep.samplesOut).toBe(n);
      got.forEach((g, i) => expect(maxAbsDiff(g, whole[i])).toBeLessThanOrEqual(ROUNDING));
    });
  }

  it('gives bit-identical output for any push sizes', async () => {
    const input = signal(1777, 9);
    const ref = assemble((await runAll(pointwise, input, input.length)).blocks, input.length);
    for (const sizes of [[1], [3, 0, 250, 1], [75], [100], [101, 49], [5000], [0, 13, 0, 64]]) {
      const got = assemble((await runAll(pointwise, input, sizes)).blocks, input.length);
      got.forEach((g, i) => expect(g).toEqual(ref[i]));
    }
  });

  it('runs windows of W samples at hops of H, and a final partial window longer than O', async () => {
    const calls: { start: number; length: number }[] = [];
    const model: RunModel = async (w, info) => {
      calls.push({ start: info.start, length: w.length });
      return [w.slice()];
    };
    await runAll(model, signal(330), 50);
    // W=100, H=75: full windows at 0, 75, 150, 225 (ends at 325 ≤ 330); then 30 samples are left (> O=25).
    expect(calls).toEqual([
      { start: 0, length: 100 },
      { start: 75, length: 100 },
      { start: 150, length: 100 },
      { start: 225, length: 100 },
      { start: 300, length: 30 },
    ]);
    calls.length = 0;
    // Input ends exactly where a full window ends: no window made of overlap only.
    await runAll(model, signal(175), 50);
    expect(calls).toEqual([
      { start: 0, length: 100 },
      { start: 75, length: 100 },
    ]);
  });

  it('holds bounded memory: emits output as input streams in', async () => {
    const sep = new ChunkedSeparator(pointwise, OPTS);
    let emitted = 0;
    for (let i = 0; i < 100; i++) {
      const blocks = await sep.push(signal(50, i));
      for (const b of blocks) emitted += b.sources[0].length;
      // Output lags input by less than one window.
      expect(sep.samplesIn - emitted).toBeLessThan(100);
      expect((sep as unknown as { buf: Float32Array }).buf.length).toBeLessThanOrEqual(150);
    }
    for (const b of await sep.finish()) emitted += b.sources[0].length;
    expect(emitted).toBe(5000);
  });

  it('zero-pads windows shorter than minWindowSamples and trims the result', async () => {
    const seen: number[] = [];
    const model: RunModel = async (w) => {
      seen.push(w.length);
      return pointwise(w, { start: 0, index: 0 });
    };
    const input = signal(10);
    const { blocks } = await runAll(model, input, 4, { minWindowSamples: 64 });
    expect(seen).toEqual([64]);
    const got = assemble(blocks, 10);
    const whole = await pointwise(input, { start: 0, index: 0 });
    got.forEach((g, i) => expect(maxAbsDiff(g, whole[i])).toBeLessThanOrEqual(ROUNDING));
  });
});

describe('speaker alignment across windows', () => {
  // An "oracle" model that knows the true sources and returns the window's slice of each,
  // with the two speakers swapped on every other window (as a real model may do).
  const N = 1500;
  const truth = [signal(N, 11), signal(N, 22).map((x) => 0.6 * x), signal(N, 33).map((x) => 0.1 * x)];
  const swapping =
    (swap: (k: number) => boolean): RunModel =>
    async (w, info) => {
      const part = truth.map((t) => t.slice(info.start, info.start + w.length));
      return swap(info.index) ? [part[1], part[0], part[2]] : part;
    };

  it('keeps speaker 1 the same source from start to end when the model swaps every other window', async () => {
    const { blocks } = await runAll(swapping((k) => k % 2 === 1), signal(N), 64, { kinds: ['speaker', 'speaker', 'background'] });
    const got = assemble(blocks, N);
    got.forEach((g, i) => expect(maxAbsDiff(g, truth[i])).toBeLessThanOrEqual(ROUNDING));
  });

  it('aligns to the first window even when the model starts swapped', async () => {
    const { blocks } = await runAll(swapping((k) => k % 3 !== 1), signal(N), 200, { kinds: ['speaker', 'speaker', 'background'] });
    const got = assemble(blocks, N);
    // Window 0 was swapped, so its order (speaker 2 first) is kept throughout.
    expect(maxAbsDiff(got[0], truth[1])).toBeLessThanOrEqual(ROUNDING);
    expect(maxAbsDiff(got[1], truth[0])).toBeLessThanOrEqual(ROUNDING);
    expect(maxAbsDiff(got[2], truth[2])).toBeLessThanOrEqual(ROUNDING);
  });

  it('never permutes background outputs', async () => {
    // The model swaps speaker 1 with the background on odd windows; alignment may only move speakers,
    // so the background slot keeps whatever the model put there.
    const model: RunModel = async (w, info) => {
      const part = truth.map((t) => t.slice(info.start, info.start + w.length));
      return info.index % 2 ? [part[2], part[1], part[0]] : part;
    };
    const { blocks } = await runAll(model, signal(N), 100, { kinds: ['speaker', 'speaker', 'background'] });
    const got = assemble(blocks, N);
    const window1Background = truth[0].slice(100, 150); // window 1 covers [75,175); its solo part [100,150)
    expect(maxAbsDiff(got[2].slice(100, 150), window1Background)).toBeLessThanOrEqual(ROUNDING);
  });

  it('treats every output as a speaker when no kinds are given', async () => {
    const model: RunModel = async (w, info) => {
      const part = truth.map((t) => t.slice(info.start, info.start + w.length));
      return info.index % 2 ? [part[2], part[0], part[1]] : part;
    };
    const got = assemble((await runAll(model, signal(N), 100)).blocks, N);
    got.forEach((g, i) => expect(maxAbsDiff(g, truth[i])).toBeLessThanOrEqual(ROUNDING));
  });

  it('bestPermutation picks the MSE-minimising order and keeps the identity on ties', () => {
    const a = signal(50, 1);
    const b = signal(50, 2);
    const c = signal(50, 3);
    expect(bestPermutation([a, b, c], [c, a, b], 50)).toEqual([1, 2, 0]);
    const z = new Float32Array(50);
    expect(bestPermutation([z, z], [a, b], 50)).toEqual([0, 1]);
    expect(bestPermutation([a], [b], 50)).toEqual([0]);
  });
});

describe('contract and failure handling', () => {
  it('derives S from the model and refuses a count that disagrees with the manifest', async () => {
    await expect(runAll(pointwise, signal(300), 300, { kinds: ['speaker', 'speaker'] })).rejects.toMatchObject({ code: 'model-contract-broken' });
    const { sep } = await runAll(async (w) => [w, w], signal(300), 300);
    expect(sep.sources).toBe(2);
  });

  it('refuses outputs of the wrong length', async () => {
    await expect(runAll(async (w) => [w.subarray(1)], signal(300), 300)).rejects.toMatchObject({ code: 'model-contract-broken' });
  });

  it('stays failed after a model error instead of emitting a gap', async () => {
    let calls = 0;
    const sep = new ChunkedSeparator(async (w) => {
      if (++calls === 2) throw new Error('boom');
      return [w];
    }, OPTS);
    await expect(sep.push(signal(200))).rejects.toThrow('boom');
    await expect(sep.push(signal(10))).rejects.toThrow('boom');
    await expect(sep.finish()).rejects.toThrow('boom');
  });

  it('serializes concurrent pushes', async () => {
    const input = signal(1000, 5);
    const ref = assemble((await runAll(pointwise, input, 1000)).blocks, 1000);
    const sep = new ChunkedSeparator(async (w, i) => {
      await new Promise((r) => setTimeout(r, (i.index * 7) % 3));
      return pointwise(w, i);
    }, OPTS);
    const all = await Promise.all([0, 1, 2, 3, 4].map((k) => sep.push(input.slice(k * 200, k * 200 + 200))));
    const blocks = [...all.flat(), ...(await sep.finish())];
    assemble(blocks, 1000).forEach((g, i) => expect(g).toEqual(ref[i]));
  });
});

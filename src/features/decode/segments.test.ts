import { describe, expect, it } from 'vitest';
import { decodeInSegments, gcd, placeRun, readAhead, resampleMargin, resamplePeriod, segmentPlan, type Segment, type SegmentRun, type SegmentSource } from './segments';

/**
 * A stand-in for ffmpeg with the properties that make segment joins hard:
 * - a resampler whose output depends on the phase of its first input sample
 *   (window starting off the rate grid → other samples) and on zero padding
 *   at both ends (no margin → wrong samples near the edges);
 * - a decoder that lands `land(asked)` samples away from where it was asked
 *   and is wrong for its first `cold` samples after seeking.
 */
const N = 4410; // native rate: 44.1 kHz scaled down (same 441:160 grid) so tests stay fast
const R = 1600;

function fakeResample(x: Float32Array, rate = N, out = R): Float32Array {
  const n = Math.ceil((x.length * out) / rate);
  const y = new Float32Array(n);
  const at = (i: number) => (i >= 0 && i < x.length ? x[i] : 0);
  for (let j = 0; j < n; j++) {
    const i = Math.floor((j * rate) / out);
    const f = (j * rate - i * out) / out; // exact phase within the native sample
    let s = 0;
    for (let k = -12; k <= 12; k++) s += at(i + k) / (1 + Math.abs(k - f));
    y[j] = s * 0.1;
  }
  return y;
}

function stream(seconds: number, seed = 1, rate = N): Float32Array {
  const x = new Float32Array(Math.round(seconds * rate));
  let s = seed;
  let lp = 0;
  for (let i = 0; i < x.length; i++) {
    s = (s * 1664525 + 1013904223) >>> 0;
    lp = 0.7 * lp + 0.3 * (s / 2 ** 32 - 0.5); // some low-pass, like speech: neighbours correlate
    x[i] = lp + 0.2 * Math.sin(i * 0.013);
  }
  return x;
}

interface FakeOptions {
  land?: (askedSample: number, call: number) => number;
  cold?: number;
  /** Per-run noise after the cold part, like AAC noise substitution (amplitude). */
  noise?: number;
}

class FakeSource implements SegmentSource {
  calls: { start: number; duration: number }[] = [];
  nativeCalls = 0;
  resampled: number[] = [];
  constructor(
    private readonly native_: Float32Array,
    private readonly o: FakeOptions = {},
    private readonly rate = N,
    private readonly out = R,
  ) {}

  private decode(startSec: number, durationSec: number, call: number): Float32Array {
    const asked = Math.round(startSec * this.rate);
    const first = startSec === 0 ? 0 : Math.max(0, asked + (this.o.land?.(asked, call) ?? 0));
    const x = this.native_.slice(Math.min(first, this.native_.length), Math.min(this.native_.length, first + Math.round(durationSec * this.rate)));
    if (startSec > 0) {
      const cold = Math.min(x.length, this.o.cold ?? Math.round(0.2 * this.rate));
      for (let i = 0; i < cold; i++) x[i] = x[i] * 0.3 + 0.05;
    }
    if (this.o.noise) {
      let s = call * 7919 + 1;
      for (let i = 0; i < x.length; i++) {
        s = (s * 1103515245 + 12345) >>> 0;
        x[i] += this.o.noise * (s / 2 ** 32 - 0.5);
      }
    }
    return x;
  }

  async run(startSec: number, durationSec: number, head: number, tailFrom: number): Promise<SegmentRun> {
    const call = this.calls.push({ start: startSec, duration: durationSec }) - 1;
    const x = this.decode(startSec, durationSec, call);
    const h = x.slice(0, head);
    const tail = x.slice(Math.min(tailFrom, x.length));
    // Like the real source: the length is only known from the tail, or from a head shorter than asked.
    const length = tail.length ? tailFrom + tail.length : h.length < head ? h.length : null;
    return { out: fakeResample(x, this.rate, this.out), head: h, tail, length };
  }

  async native(startSec: number, durationSec: number): Promise<Float32Array> {
    this.nativeCalls++;
    // The same command again: the same call number, so the same landing and noise.
    return this.decode(startSec, durationSec, this.calls.length - 1);
  }

  async resample(x: Float32Array): Promise<Float32Array> {
    this.resampled.push(x.length);
    return fakeResample(x, this.rate, this.out);
  }
}

async function collect(src: SegmentSource, segmentSec: number, rate = N, out = R, searchSec?: number): Promise<{ pcm: Float32Array; segments: Segment[] }> {
  const segments: Segment[] = [];
  for await (const s of decodeInSegments(src, { rate, outRate: out, segmentSec, searchSec })) segments.push(s);
  const total = segments.reduce((n, s) => n + s.samples.length, 0);
  const pcm = new Float32Array(total);
  let at = 0;
  for (const s of segments) {
    expect(s.start).toBe(at); // contiguous, numbered in output samples
    pcm.set(s.samples, at);
    at += s.samples.length;
  }
  return { pcm, segments };
}

function maxDiff(a: Float32Array, b: Float32Array): number {
  let m = 0;
  for (let i = 0; i < Math.min(a.length, b.length); i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

describe('rate grid arithmetic', () => {
  it('gcd', () => {
    expect(gcd(44100, 16000)).toBe(100);
    expect(gcd(48000, 16000)).toBe(16000);
    expect(gcd(7, 5)).toBe(1);
  });

  it('the resampler period is where native and output samples meet again', () => {
    expect(resamplePeriod(44100, 16000)).toBe(441); // 441 native = 160 output
    expect(resamplePeriod(48000, 16000)).toBe(3);
    expect(resamplePeriod(22050, 16000)).toBe(441);
    expect(resamplePeriod(16000, 16000)).toBe(1);
    expect(resamplePeriod(8000, 16000)).toBe(1);
    expect(resamplePeriod(44101, 16000)).toBe(44101); // an odd rate: only whole seconds meet
    for (const rate of [8000, 11025, 22050, 32000, 37800, 44056, 44100, 48000, 88200, 96000]) {
      // A whole second is always on both grids: segments start on whole seconds.
      expect(rate % resamplePeriod(rate, 16000)).toBe(0);
    }
  });

  it('margins are whole periods, at least the asked time', () => {
    expect(resampleMargin(44100, 16000)).toBe(2205); // 0.05 s = 5 periods of 441
    expect(resampleMargin(48000, 16000)).toBe(2400);
    expect(resampleMargin(44101, 16000)).toBe(44101);
    expect((resampleMargin(44100, 16000) * 16000) % 44100).toBe(0);
  });

  it('refuses rates that are not positive integers', () => {
    expect(() => resamplePeriod(0, 16000)).toThrow(RangeError);
    expect(() => resamplePeriod(44100.5, 16000)).toThrow(RangeError);
    expect(() => segmentPlan({ rate: 48000, outRate: 16000, segmentSec: 0 })).toThrow(RangeError);
    expect(() => segmentPlan({ rate: 48000, outRate: 16000, segmentSec: 1.5 })).toThrow(RangeError);
  });

  it('runs reach far enough past a segment for the next window and the overlap', () => {
    const p = segmentPlan({ rate: 48000, outRate: 16000, segmentSec: 60 });
    expect(p.postRollSec * 48000).toBeGreaterThanOrEqual(p.margin + p.guard + 48000);
    expect(p.preRollSec * 48000).toBeGreaterThan(p.search + p.settle);
  });
});

describe('placeRun', () => {
  const ref = stream(3, 5);
  const refStart = 10_000;
  const runAt = (offset: number, len = 12_000, noise = 0) => {
    const x = new Float32Array(len);
    let s = 3;
    for (let i = 0; i < len; i++) {
      const g = offset + i - refStart;
      s = (s * 1103515245 + 12345) >>> 0;
      x[i] = (g >= 0 && g < ref.length ? ref[g] : 0.3) + noise * (s / 2 ** 32 - 0.5);
    }
    return x;
  };
  const opts = { search: 2000, settle: 500 };

  it('confirms an exact seek at once', () => {
    expect(placeRun(ref, refStart, runAt(9000), 9000, opts)).toEqual({ offset: 9000, how: 'exact', agreementDb: Infinity });
  });

  it('finds a run that landed elsewhere, either side', () => {
    for (const d of [-1999, -384, -1, 1, 148, 1500]) {
      const p = placeRun(ref, refStart, runAt(9000 + d), 9000, opts);
      expect(p).toMatchObject({ offset: 9000 + d, how: 'exact' });
    }
  });

  it('tolerates a decoder whose output differs a little (noise substitution)', () => {
    const p = placeRun(ref, refStart, runAt(8950, 12_000, 0.01), 9000, opts);
    expect(p.offset).toBe(8950);
    expect(p.how).toBe('matched');
    expect(p.agreementDb!).toBeGreaterThan(20);
  });

  it('takes a close match where asked without searching, but not one sample off', () => {
    expect(placeRun(ref, refStart, runAt(9000, 12_000, 0.01), 9000, opts)).toMatchObject({ offset: 9000, how: 'matched' });
    expect(placeRun(ref, refStart, runAt(9001, 12_000, 0.01), 9000, opts)).toMatchObject({ offset: 9001, how: 'matched' });
    expect(placeRun(ref, refStart, runAt(8999, 12_000, 0.01), 9000, opts)).toMatchObject({ offset: 8999, how: 'matched' });
  });

  it('leaves a run where it was asked over silence, or when nothing agrees', () => {
    const silent = new Float32Array(ref.length);
    expect(placeRun(silent, refStart, new Float32Array(12_000), 9000, opts)).toMatchObject({ offset: 9000, how: 'silent' });
    const other = stream(3, 99);
    expect(placeRun(ref, refStart, other, 9000, opts)).toMatchObject({ offset: 9000, how: 'unmatched' });
  });

  it('prefers the nearest of equally good placements (periodic signal)', () => {
    const period = 100;
    const tone = Float32Array.from({ length: 6000 }, (_, i) => Math.sin((2 * Math.PI * i) / period));
    const run = Float32Array.from({ length: 12_000 }, (_, i) => Math.sin((2 * Math.PI * (i + 9000 - refStart + 30)) / period));
    // The run lies at 9030, or any 100 samples from there; the nearest to the asked 9000 wins.
    expect(placeRun(tone, refStart, run, 9000, opts).offset).toBe(9030);
  });
});

// Whole decodes of a few seconds of fake audio: quick, but give a loaded machine room.
describe('decodeInSegments', { timeout: 30_000 }, () => {
  const oneRun = (x: Float32Array) => fakeResample(x);

  it('joins segments into exactly one run over the whole stream', async () => {
    const x = stream(23.7);
    const src = new FakeSource(x, { land: () => 0 });
    const { pcm, segments } = await collect(src, 5);
    const ref = oneRun(x);
    expect(pcm.length).toBe(ref.length);
    expect(maxDiff(pcm, ref)).toBe(0); // bit for bit
    expect(segments.map((s) => s.samples.length / R)).toEqual([5, 5, 5, 5, 3.7]);
    expect(segments.at(-1)!.final).toBe(true);
    expect(segments.slice(1).every((s) => s.join?.how === 'exact' && s.join.drift === 0 && s.join.direct)).toBe(true);
    // The first run starts at the very beginning (no seek); the others a pre-roll early.
    expect(src.calls.map((c) => c.start)).toEqual([0, 2, 7, 12, 17]);
    // On the grid: every segment came straight from its run.
    expect(src.nativeCalls).toBe(0);
  });

  it('places runs that land off the asked sample (WebM ms timestamps, codec delay)', async () => {
    const x = stream(23.7);
    for (const land of [() => -37, () => 211, (_: number, call: number) => (call * 97) % 400 - 200]) {
      const src = new FakeSource(x, { land });
      const { pcm, segments } = await collect(src, 5);
      expect(maxDiff(pcm, oneRun(x))).toBe(0);
      expect(pcm.length).toBe(oneRun(x).length);
      expect(segments.slice(1).every((s) => s.join?.how === 'exact')).toBe(true);
      // Off the 441-sample grid: decoded again and resampled from a whole second.
      expect(segments.slice(1).every((s) => s.join?.direct === false)).toBe(true);
      expect(src.nativeCalls).toBe(4);
    }
  });

  it('uses the run\'s own output when it lands off the asked sample but on the grid', async () => {
    const x = stream(23.7);
    const src = new FakeSource(x, { land: () => -441 });
    const { pcm, segments } = await collect(src, 5);
    expect(pcm.length).toBe(oneRun(x).length);
    expect(maxDiff(pcm, oneRun(x))).toBe(0);
    expect(segments.slice(1).every((s) => s.join?.how === 'exact' && s.join.drift === -441 && s.join.direct)).toBe(true);
    expect(src.nativeCalls).toBe(0);
  });

  it('keeps the last drift across a boundary that is silent', async () => {
    const x = stream(23.7);
    x.fill(0, Math.round(8 * N), Math.round(12 * N)); // digital silence around the 10 s boundary
    const src = new FakeSource(x, { land: () => -37 });
    const { pcm, segments } = await collect(src, 5);
    expect(segments[2].join?.how).toBe('silent');
    expect(segments[2].join?.drift).toBe(-37);
    expect(maxDiff(pcm, oneRun(x))).toBe(0);
  });

  it('ends where the stream ends, whatever the length (no duration needed)', async () => {
    const p = segmentPlan({ rate: N, outRate: R, segmentSec: 5 });
    const lengths = [0.3, 4.99, 5, 5 + p.postRollSec / 2, 10, 10 + p.guard / N / 2, 15.01, 19.98];
    for (const sec of lengths) {
      const x = stream(sec, 7);
      const { pcm, segments } = await collect(new FakeSource(x, { land: () => -5 }), 5);
      expect(pcm.length, `${sec} s`).toBe(oneRun(x).length);
      expect(maxDiff(pcm, oneRun(x)), `${sec} s`).toBe(0);
      expect(segments.at(-1)!.final).toBe(true);
    }
  });

  it('yields nothing for an empty stream', async () => {
    const { pcm, segments } = await collect(new FakeSource(new Float32Array(0)), 5);
    expect(pcm.length).toBe(0);
    expect(segments.every((s) => s.samples.length === 0)).toBe(true);
  });

  it('works on the real rates: 44.1 kHz and 48 kHz to 16 kHz', async () => {
    for (const rate of [44100, 48000]) {
      const x = stream(7.5, 3, rate);
      const src = new FakeSource(x, { land: () => -128 * 3 }, rate, 16000);
      const { pcm } = await collect(src, 3, rate, 16000);
      const ref = fakeResample(x, rate, 16000);
      expect(pcm.length).toBe(ref.length);
      expect(maxDiff(pcm, ref)).toBe(0);
    }
  });

  it('shortens a segment when its run landed early and stops short of it', async () => {
    const x = stream(30);
    // Every run after the first lands 1.5 s early (found by a wider search): it ends before its segment plus margin.
    const src = new FakeSource(x, { land: () => -Math.round(1.5 * N) });
    const { pcm, segments } = await collect(src, 5, N, R, 2);
    expect(maxDiff(pcm, oneRun(x))).toBe(0);
    expect(pcm.length).toBe(oneRun(x).length);
    expect(segments.some((s) => s.samples.length < 5 * R && !s.final)).toBe(true);
  });

  it('a decoder with per-run noise still joins in place (close, not exact)', async () => {
    const x = stream(17);
    const { pcm, segments } = await collect(new FakeSource(x, { land: () => 20, noise: 1e-3 }), 5);
    expect(pcm.length).toBe(oneRun(x).length);
    expect(segments.slice(1).every((s) => s.join?.how === 'matched' && s.join.drift === 20)).toBe(true);
    expect(maxDiff(pcm, oneRun(x))).toBeLessThan(2e-3);
  });

  it('each segment owns its buffer (it is transferred to the page)', async () => {
    const { segments } = await collect(new FakeSource(stream(12)), 5);
    for (const s of segments) expect(s.samples.byteLength).toBe(s.samples.buffer.byteLength);
  });

  it('asks for at most one segment of audio (plus rolls) per run', async () => {
    const src = new FakeSource(stream(40), { land: () => 3 });
    const p = segmentPlan({ rate: N, outRate: R, segmentSec: 5 });
    await collect(src, 5);
    for (const c of src.calls) expect(c.duration).toBeLessThanOrEqual(5 + p.preRollSec + p.postRollSec + 1e-9);
    expect(src.resampled.length).toBeGreaterThan(0);
    for (const n of src.resampled) expect(n).toBeLessThanOrEqual(5 * N + 2 * p.margin);
  });

  it('a failing run fails the decode', async () => {
    const fake = new FakeSource(stream(12));
    const src: SegmentSource = {
      run: async (start, ...rest) => {
        if (start > 0) throw new Error('ffmpeg failed');
        return fake.run(start, ...rest);
      },
      native: (...args) => fake.native(...args),
      resample: (x) => fake.resample(x),
    };
    await expect(collect(src, 5)).rejects.toThrow('ffmpeg failed');
  });
});

describe('readAhead', () => {
  async function* numbers(log: string[], n: number) {
    for (let i = 0; i < n; i++) {
      log.push(`make ${i}`);
      await new Promise((r) => setTimeout(r, 1));
      yield i;
    }
  }

  it('works on the next item while the consumer handles this one, and no further', async () => {
    const log: string[] = [];
    const seen: number[] = [];
    for await (const v of readAhead(numbers(log, 3))) {
      log.push(`use ${v}`);
      await new Promise((r) => setTimeout(r, 5));
      seen.push(v);
    }
    expect(seen).toEqual([0, 1, 2]);
    expect(log).toEqual(['make 0', 'make 1', 'use 0', 'make 2', 'use 1', 'use 2']);
  });

  it('passes errors on, in order', async () => {
    async function* failing() {
      yield 1;
      throw new Error('boom');
    }
    const seen: number[] = [];
    await expect(
      (async () => {
        for await (const v of readAhead(failing())) seen.push(v);
      })(),
    ).rejects.toThrow('boom');
    expect(seen).toEqual([1]);
  });

  it('stops the producer when the consumer stops', async () => {
    let finished = false;
    async function* producer() {
      try {
        for (let i = 0; ; i++) yield i;
      } finally {
        finished = true;
      }
    }
    for await (const v of readAhead(producer())) if (v === 2) break;
    await new Promise((r) => setTimeout(r, 5));
    expect(finished).toBe(true);
  });
});

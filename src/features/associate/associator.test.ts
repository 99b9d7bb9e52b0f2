import { describe, expect, it } from 'vitest';
import type { SeparatedBlock } from '../../pipeline/types';
import { VoiceAssociator, type Embed } from './associator';

const RATE = 16000;
const KINDS = ['speaker', 'speaker', 'background'] as const;

/** A "voice" here is a tone; its voiceprint is its pitch mapped onto a quarter circle (200 Hz → 0°, 330 Hz → 90°). */
const pitchPrint: Embed = async (x) => {
  let crossings = 0;
  for (let n = 1; n < x.length; n++) if (x[n - 1] < 0 !== x[n] < 0) crossings++;
  const hz = (crossings * RATE) / (2 * x.length);
  const a = (Math.PI / 2) * Math.min(1, Math.max(0, (hz - 200) / 130));
  return Float32Array.from([Math.cos(a), Math.sin(a)]);
};

interface Turn {
  hz: number;
  from: number;
  to: number;
}

/** What a separator does with turn-taking: every lone voice on output 0, a faint leak on output 1, some background. */
function separated(turns: Turn[], seconds: number) {
  const T = seconds * RATE;
  const out = [new Float32Array(T), new Float32Array(T), new Float32Array(T)];
  let seed = 1;
  const noise = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648 - 0.5) * 1e-3;
  for (const { hz, from, to } of turns) {
    for (let n = Math.round(from * RATE); n < Math.round(to * RATE); n++) {
      const v = 0.3 * Math.sin((2 * Math.PI * hz * n) / RATE);
      out[0][n] += v;
      out[1][n] += 0.003 * v;
    }
  }
  for (let n = 0; n < T; n++) out[2][n] = noise();
  return out;
}

async function run(assoc: VoiceAssociator, sources: Float32Array[], block: number): Promise<SeparatedBlock[]> {
  const blocks: SeparatedBlock[] = [];
  for (let s = 0; s < sources[0].length; s += block) {
    blocks.push(...(await assoc.push({ start: s, sources: sources.map((x) => x.slice(s, s + block)) })));
  }
  blocks.push(...(await assoc.finish()));
  return blocks;
}

function joined(blocks: SeparatedBlock[], total: number): Float32Array[] {
  const out = blocks[0].sources.map(() => new Float32Array(total));
  let at = 0;
  for (const b of blocks) {
    expect(b.start).toBe(at);
    b.sources.forEach((x, i) => out[i].set(x, b.start));
    at += b.sources[0].length;
  }
  expect(at).toBe(total);
  return out;
}

/** Largest sample difference (toEqual on long typed arrays is slow to diff when it fails). */
function maxDiff(a: Float32Array, b: Float32Array): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let n = 0; n < a.length; n++) m = Math.max(m, Math.abs(a[n] - b[n]));
  return m;
}

const energy = (x: Float32Array, from: number, to: number) => {
  let e = 0;
  for (let n = Math.round(from * RATE); n < Math.round(to * RATE); n++) e += x[n] * x[n];
  return e;
};

const conversation: Turn[] = [
  { hz: 200, from: 0.5, to: 3.5 },
  { hz: 330, from: 4.0, to: 6.5 },
  { hz: 200, from: 7.0, to: 9.0 },
  { hz: 330, from: 9.6, to: 13.0 },
  { hz: 200, from: 13.5, to: 17.5 },
  { hz: 330, from: 18.0, to: 21.0 },
];

describe('VoiceAssociator', () => {
  it('puts each of two people taking turns on their own track', async () => {
    const src = separated(conversation, 22);
    const assoc = new VoiceAssociator({ kinds: KINDS, embed: pitchPrint });
    const out = joined(await run(assoc, src, 8 * RATE), src[0].length);
    for (const t of conversation) {
      const own = t.hz === 200 ? 0 : 1;
      const e = [energy(out[0], t.from, t.to), energy(out[1], t.from, t.to)];
      expect(e[own] / (e[0] + e[1]), `turn at ${t.from} s`).toBeGreaterThan(0.99);
    }
    expect(assoc.summary.voices).toBe(2);
  });

  it('leaves one person alone on the track they came out on', async () => {
    const mono = conversation.map((t) => ({ ...t, hz: 200 }));
    const src = separated(mono, 22);
    const assoc = new VoiceAssociator({ kinds: KINDS, embed: pitchPrint });
    const out = joined(await run(assoc, src, 8 * RATE), src[0].length);
    expect(assoc.summary).toMatchObject({ voices: 1, switches: 0 });
    expect(maxDiff(out[0], src[0])).toBe(0);
    expect(maxDiff(out[1], src[1])).toBe(0);
    expect(assoc.summary).toMatchObject({ voices: 1, switches: 0 });
  });

  it('only moves audio between the speaker tracks: their sum and the background are untouched', async () => {
    const src = separated(conversation, 22);
    const out = joined(await run(new VoiceAssociator({ kinds: KINDS, embed: pitchPrint }), src, 3 * RATE + 17), src[0].length);
    expect(maxDiff(out[2], src[2])).toBe(0);
    let worst = 0;
    for (let n = 0; n < src[0].length; n++) worst = Math.max(worst, Math.abs(out[0][n] + out[1][n] - src[0][n] - src[1][n]));
    expect(worst).toBeLessThan(1e-6);
  });

  it('holds a bounded amount of audio however long the input', async () => {
    const turns: Turn[] = [];
    for (let t = 0; t < 300; t += 5) turns.push({ hz: (t / 5) % 2 ? 330 : 200, from: t + 0.3, to: t + 4.5 });
    const src = separated(turns, 300);
    const assoc = new VoiceAssociator({ kinds: KINDS, embed: pitchPrint });
    let held = 0;
    let heldLater = 0;
    let emitted = 0;
    for (let s = 0; s < src[0].length; s += 8 * RATE) {
      const got = await assoc.push({ start: s, sources: src.map((x) => x.slice(s, s + 8 * RATE)) });
      emitted += got.reduce((n, b) => n + b.sources[0].length, 0);
      const now = Math.min(s + 8 * RATE, src[0].length) - emitted;
      held = Math.max(held, now);
      if (s >= 40 * RATE) heldLater = Math.max(heldLater, now);
    }
    await assoc.finish();
    // At first one 8 s block plus the warm-up (20 s, while only one voice is known)…
    expect(held).toBeLessThanOrEqual((8 + 20 + 0.2) * RATE);
    // …then one block, an open segment (3 s + a 0.3 s gap), the lookahead (1 s) and a frame.
    expect(heldLater).toBeLessThanOrEqual((8 + 3.3 + 1 + 0.2) * RATE);
    expect(assoc.summary.voices).toBe(2);
  });

  it('passes blocks through for a model without exactly two speaker outputs', async () => {
    const assoc = new VoiceAssociator({ kinds: ['speaker', 'background'], embed: pitchPrint });
    expect(assoc.active).toBe(false);
    const b = { start: 0, sources: [new Float32Array(100), new Float32Array(100)] };
    expect(await assoc.push(b)).toEqual([b]);
    expect(await assoc.finish()).toEqual([]);
  });

  it('refuses blocks out of order or after finish', async () => {
    const assoc = new VoiceAssociator({ kinds: KINDS, embed: pitchPrint });
    const mk = (start: number) => ({ start, sources: [0, 1, 2].map(() => new Float32Array(1600)) });
    await assoc.push(mk(0));
    await expect(assoc.push(mk(5))).rejects.toThrow(/expected 1600/);
    await assoc.finish();
    await expect(assoc.push(mk(1600))).rejects.toThrow(/after finish/);
  });
});

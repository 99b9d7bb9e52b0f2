/**
 * The associate stage: keeps each voice on its own track across turns.
 *
 * A separation model is permutation-invariant over the few seconds it sees:
 * when people take turns, a lone voice comes out wherever the model habitually
 * puts one, so both people share a track (training/meetings.py measured it on
 * real meetings). Here the speaker outputs are cut into segments of speech
 * (voice-segments.ts), each gets a voiceprint from the `embed` function, the
 * profiles (voice-profiles.ts) say which track that voice belongs to, and a
 * route per 0.1 s frame — keep or swap the two speaker outputs — is chosen by
 * a two-state Viterbi search whose switches cost `switchCost`, so one unsure
 * segment does not flip a track. Routes become final a little after the last
 * open segment (lookahead), then the audio is emitted with a short
 * cross-fade at each change. Background outputs pass through.
 *
 * Streaming and bounded: it holds the audio from the first frame whose route
 * is not final (at most about one segment plus the lookahead plus one block).
 * Blocks out cover exactly what came in, in order, once.
 */
import { VoxError } from '../../lib/errors';
import { MODEL_SAMPLE_RATE } from '../../lib/limits';
import type { SeparatedBlock } from '../../pipeline/types';
import type { SourceKind } from '../model/manifest';
import { ASSOCIATE_DEFAULTS, FRAME_SECONDS, type AssociateParams } from './params';
import { VoiceProfiles, type Assignment } from './voice-profiles';
import { VoiceSegmenter, type VoiceSegment } from './voice-segments';

/** Voiceprint of a stretch of mono 16 kHz speech: a unit-length vector. */
export type Embed = (audio: Float32Array) => Promise<Float32Array>;

export interface AssociatorOptions {
  /** The model's outputs in order (manifest sources); only a model with exactly two speaker outputs is associated. */
  kinds: readonly SourceKind[];
  embed: Embed;
  sampleRate?: number;
  params?: Partial<AssociateParams>;
  /** Called with each segment's decision (diagnosis: training/js/associate.mjs --trace). */
  trace?: (t: VoiceSegment & Assignment) => void;
}

export interface AssociateSummary {
  segments: number;
  /** Voices the profiles hold (0–2). */
  voices: number;
  /** Route changes emitted. */
  switches: number;
}

/** Growable per-source buffer of the samples not yet emitted, starting at sample `base`. */
class Pending {
  base = 0;
  length = 0;
  private data: Float32Array[];
  constructor(sources: number) {
    this.data = Array.from({ length: sources }, () => new Float32Array(0));
  }
  append(sources: Float32Array[]): void {
    const n = sources[0].length;
    const need = this.length + n;
    if (need > this.data[0].length) {
      const cap = Math.max(need, 2 * this.data[0].length);
      this.data = this.data.map((d) => {
        const g = new Float32Array(cap);
        g.set(d.subarray(0, this.length));
        return g;
      });
    }
    this.data.forEach((d, i) => d.set(sources[i], this.length));
    this.length = need;
  }
  /** Samples [from, to) of source i (absolute sample indices). */
  view(i: number, from: number, to: number): Float32Array {
    return this.data[i].subarray(from - this.base, to - this.base);
  }
  /** Forgets everything before absolute sample `to`. */
  drop(to: number): void {
    const k = to - this.base;
    for (const d of this.data) d.copyWithin(0, k, this.length);
    this.length -= k;
    this.base = to;
  }
}

export class VoiceAssociator {
  private readonly p: AssociateParams;
  private readonly speakers: number[];
  private readonly frame: number;
  private readonly pending: Pending;
  private readonly segmenter: VoiceSegmenter;
  private readonly profiles: VoiceProfiles;
  private readonly embed: Embed;
  private readonly fadeIn: Float32Array;
  /**
   * Segments reaching frames not yet final, with their voiceprints: their route costs are judged afresh at each
   * commit, by the voices as known then (a second voice found later re-judges the segments still open).
   */
  private segments: { s: VoiceSegment; e: Float32Array }[] = [];
  /** Per speaker output, the voiceprint of its last segment (a tail piece is the same voice). */
  private readonly lastPrint: (Float32Array | undefined)[] = [undefined, undefined];
  /** Per frame not yet final: the cost of changing route into it (cheapest where it is quietest). */
  private switchCosts: number[] = [];
  private committed = 0;
  private lastRoute = 0;
  private received = 0;
  private finished = false;
  private readonly stats = { segments: 0, switches: 0 };

  constructor(private readonly opts: AssociatorOptions) {
    this.p = { ...ASSOCIATE_DEFAULTS, ...opts.params };
    this.speakers = opts.kinds.flatMap((k, i) => (k === 'speaker' ? [i] : []));
    this.frame = Math.round(FRAME_SECONDS * (opts.sampleRate ?? MODEL_SAMPLE_RATE));
    this.pending = new Pending(opts.kinds.length);
    this.segmenter = new VoiceSegmenter(this.p);
    this.profiles = new VoiceProfiles(this.p);
    this.embed = opts.embed;
    const x = this.p.crossFadeSamples;
    this.fadeIn = Float32Array.from({ length: x }, (_, n) => Math.sin((0.5 * Math.PI * (n + 0.5)) / x) ** 2);
  }

  /** False for a model without exactly two speaker outputs: blocks then pass through unchanged. */
  get active(): boolean {
    return this.speakers.length === 2;
  }

  get summary(): AssociateSummary {
    return { ...this.stats, voices: this.profiles.known };
  }

  async push(block: SeparatedBlock): Promise<SeparatedBlock[]> {
    if (this.finished) throw new VoxError('internal', 'Associate: push after finish.');
    if (block.sources.length !== this.opts.kinds.length) {
      throw new VoxError('internal', `Associate: ${block.sources.length} sources, expected ${this.opts.kinds.length}.`);
    }
    if (block.start !== this.received) throw new VoxError('internal', `Associate: block at ${block.start}, expected ${this.received}.`);
    if (!this.active) {
      this.received += block.sources[0].length;
      return [block];
    }
    this.pending.append(block.sources);
    this.received += block.sources[0].length;
    while ((this.segmenter.frames + 1) * this.frame <= this.received) await this.analyse(this.frame);
    // Until a second voice is known, hold routes back (up to warmupFrames): its first turn is then routed knowing it.
    if (this.profiles.known < 2 && this.segmenter.frames < this.p.warmupFrames) return [];
    return this.commit(Math.min(this.segmenter.openFrom, this.segmenter.frames) - this.p.lookaheadFrames);
  }

  async finish(): Promise<SeparatedBlock[]> {
    if (this.finished) return [];
    this.finished = true;
    if (!this.active) return [];
    const tail = this.received - this.segmenter.frames * this.frame;
    if (tail > 0) await this.analyse(tail);
    for (const s of this.segmenter.finish()) await this.score(s);
    return this.commit(this.segmenter.frames);
  }

  /** The next frame (`length` samples): its levels, the segments it closes, their voiceprints. */
  private async analyse(length: number): Promise<void> {
    const from = this.segmenter.frames * this.frame;
    const levels = this.speakers.map((i) => {
      const v = this.pending.view(i, from, from + length);
      let e = 0;
      for (let n = 0; n < v.length; n++) e += v[n] * v[n];
      return e / Math.max(1, v.length);
    }) as [number, number];
    // A change of route is inaudible in silence: between equally good routes, the search moves it to the quietest frame.
    const loud = Math.max(0, 10 * Math.log10(levels[0] + levels[1] + 1e-10) - this.p.silenceDb);
    this.switchCosts.push(this.p.switchCost * (1 + 0.01 * loud));
    for (const s of this.segmenter.push(levels)) await this.score(s);
  }

  private async score(s: VoiceSegment): Promise<void> {
    let e = this.lastPrint[s.output];
    if (!s.tail || !e) {
      this.stats.segments++;
      const audio = this.pending.view(this.speakers[s.output], s.start * this.frame, Math.min(s.end * this.frame, this.received));
      e = this.lastPrint[s.output] = await this.embed(audio.slice());
      if (s.solo) this.profiles.hear(s.output, e, s.end - s.start);
      this.opts.trace?.({ ...s, ...this.profiles.judge(e) });
    }
    this.segments.push({ s, e });
  }

  /** Costs of [keep, swap] per frame not yet final, from the open segments judged by the voices known now. */
  private costs(): [number, number][] {
    const costs = Array.from({ length: this.segmenter.frames - this.committed }, (): [number, number] => [0, 0]);
    for (const { s, e } of this.segments) {
      const { track, confidence } = this.profiles.judge(e);
      const route = track === s.output ? 0 : 1;
      for (let f = Math.max(s.start, this.committed); f < s.end; f++) costs[f - this.committed][route] -= confidence;
    }
    return costs;
  }

  /** Routes frames [committed, upTo) for good (Viterbi over every frame known) and emits their audio. */
  private commit(upTo: number): SeparatedBlock[] {
    const end = Math.min(upTo, this.segmenter.frames);
    if (end <= this.committed) return [];
    const routes = this.bestRoutes(this.costs());
    const from = this.committed * this.frame;
    const to = Math.min(end * this.frame, this.received);
    const sources = this.opts.kinds.map((_, i) => this.pending.view(i, from, to).slice());
    const [a, b] = this.speakers;
    for (let f = this.committed; f < end; f++) {
      const route = routes[f - this.committed];
      const s0 = (f - this.committed) * this.frame;
      const s1 = Math.min(s0 + this.frame, to - from);
      if (route === 1) this.swap(sources[a], sources[b], s0, s1);
      if (route !== this.lastRoute) {
        this.stats.switches++;
        this.crossFade(sources[a], sources[b], s0, Math.min(s1, s0 + this.fadeIn.length));
      }
      this.lastRoute = route;
    }
    this.segments = this.segments.filter(({ s }) => s.end > end);
    this.switchCosts = this.switchCosts.slice(end - this.committed);
    this.committed = end;
    this.pending.drop(to);
    return [{ start: from, sources }];
  }

  /** Two-state Viterbi over the frames not yet final, starting from the last route emitted. */
  private bestRoutes(costs: [number, number][]): number[] {
    const n = costs.length;
    const back = [new Uint8Array(n), new Uint8Array(n)];
    const P = this.switchCosts;
    let acc = [costs[0][0] + (this.lastRoute === 0 ? 0 : P[0]), costs[0][1] + (this.lastRoute === 1 ? 0 : P[0])];
    for (let f = 1; f < n; f++) {
      const next = [0, 0];
      for (const s of [0, 1]) {
        const stay = acc[s];
        const move = acc[1 - s] + P[f];
        back[s][f] = stay <= move ? s : 1 - s;
        next[s] = Math.min(stay, move) + costs[f][s];
      }
      acc = next;
    }
    const routes = new Array<number>(n);
    let s = acc[1] < acc[0] ? 1 : 0;
    for (let f = n - 1; f >= 0; f--) {
      routes[f] = s;
      s = back[s][f];
    }
    return routes;
  }

  private swap(x: Float32Array, y: Float32Array, s0: number, s1: number): void {
    for (let n = s0; n < s1; n++) {
      const t = x[n];
      x[n] = y[n];
      y[n] = t;
    }
  }

  /**
   * Samples [s0, s1) already carry the new route; fade from the old one
   * (the two speaker outputs the other way round) to it.
   */
  private crossFade(x: Float32Array, y: Float32Array, s0: number, s1: number): void {
    for (let n = s0; n < s1; n++) {
      const w = this.fadeIn[n - s0];
      const nx = x[n];
      const ny = y[n];
      x[n] = w * nx + (1 - w) * ny;
      y[n] = w * ny + (1 - w) * nx;
    }
  }
}

/**
 * Who is who: two voice centroids over the voiceprints heard so far, one per
 * output track. The first voice founds a centroid on the track it came out
 * on. Every new segment re-runs a weighted 2-means on the unit sphere over
 * the recent history (warm-started from the last centroids, so a centroid
 * keeps its track); a second voice exists only while the two centroids are
 * further apart than `oneVoice`, so one person whose voiceprints wander is
 * not split in two. Each segment then goes to the track of the nearer
 * centroid, with the cosine margin as confidence for the route search.
 */
import type { AssociateParams } from './params';

export interface Assignment {
  /** The track (0 or 1) the segment's voice belongs to. */
  track: number;
  /** How sure, ≥ 0; 0 = no opinion. */
  confidence: number;
  /** Cosine with each track's centroid at the time (NaN: no voice on that track yet); for diagnosis. */
  cosines: [number, number];
}

interface Heard {
  e: Float32Array;
  weight: number;
}

function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

function normalised(v: Float64Array): Float64Array | undefined {
  const n = Math.sqrt(dot(v, v));
  if (!(n > 0)) return undefined;
  for (let i = 0; i < v.length; i++) v[i] /= n;
  return v;
}

export class VoiceProfiles {
  private readonly history: Heard[] = [];
  /** Centroid per track (undefined: no voice there yet). */
  private centroids: (Float64Array | undefined)[] = [undefined, undefined];

  constructor(private readonly p: AssociateParams) {}

  /** How many voices the tracks hold now. */
  get known(): number {
    return this.centroids.filter(Boolean).length;
  }

  /** A segment's voiceprint (unit length) heard on speaker output `output`, `frames` long: the voices are re-estimated. */
  hear(output: number, embedding: Float32Array, frames: number): void {
    this.history.push({ e: embedding, weight: frames });
    if (this.history.length > this.p.historySegments) this.history.shift();
    if (!this.centroids[0] && !this.centroids[1]) this.centroids[output] = Float64Array.from(embedding);
    this.recluster();
  }

  /** Which track a voiceprint belongs to, by the voices as they stand now. */
  judge(embedding: Float32Array): Assignment {
    if (!this.centroids[0] && !this.centroids[1]) return { track: 0, confidence: 0, cosines: [NaN, NaN] };
    const cosines = this.centroids.map((c) => (c ? dot(c, embedding) : NaN)) as [number, number];
    const [c0, c1] = this.centroids;
    if (!c0 || !c1) {
      // One voice so far: it stays on its track, whichever output the separator put it on.
      return { track: c0 ? 0 : 1, confidence: this.p.oneVoiceConfidence, cosines };
    }
    const track = cosines[1] > cosines[0] ? 1 : 0;
    return { track, confidence: Math.abs(cosines[1] - cosines[0]), cosines };
  }

  /** Weighted spherical 2-means over the history, from the current centroids. */
  private recluster(): void {
    const t = this.centroids[0] ? 0 : 1;
    let a = this.centroids[t]!;
    let b: Float64Array | undefined = this.centroids[1 - t] ?? this.farthestFrom(a);
    for (let iter = 0; b && iter < 10; iter++) {
      const sa = new Float64Array(a.length);
      const sb = new Float64Array(a.length);
      for (const h of this.history) {
        const s = dot(b, h.e) > dot(a, h.e) ? sb : sa;
        for (let i = 0; i < s.length; i++) s[i] += h.weight * h.e[i];
      }
      const na = normalised(sa);
      const nb = normalised(sb);
      if (!na || !nb) {
        b = undefined; // everything went to one side: one voice
        break;
      }
      const moved = dot(na, a) < 1 - 1e-9 || dot(nb, b) < 1 - 1e-9;
      a = na;
      b = nb;
      if (!moved) break;
    }
    // A second voice needs enough speech of its own, and once there it stays until the two centroids are clearly one.
    const apart = this.centroids[1 - t] ? this.p.oneVoice + this.p.oneVoiceHysteresis : this.p.oneVoice;
    const two = b !== undefined && dot(a, b) < apart && this.weightNearer(b, a) >= this.p.minVoiceFrames;
    this.centroids[t] = a;
    this.centroids[1 - t] = two ? b : undefined;
  }

  /** Frames of heard speech nearer to `c` than to `other`. */
  private weightNearer(c: Float64Array, other: Float64Array): number {
    let w = 0;
    for (const h of this.history) if (dot(c, h.e) > dot(other, h.e)) w += h.weight;
    return w;
  }

  /** The heard voiceprint least like `c`: where a second voice would start. */
  private farthestFrom(c: Float64Array): Float64Array | undefined {
    let best: Heard | undefined;
    let bestCos = Infinity;
    for (const h of this.history) {
      const s = dot(c, h.e);
      if (s < bestCos) {
        bestCos = s;
        best = h;
      }
    }
    return best && bestCos < this.p.oneVoice ? Float64Array.from(best.e) : undefined;
  }
}

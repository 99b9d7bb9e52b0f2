import { describe, expect, it } from 'vitest';
import { ASSOCIATE_DEFAULTS } from './params';
import { VoiceSegmenter, type VoiceSegment } from './voice-segments';

const P = ASSOCIATE_DEFAULTS;
const level = (db: number) => 10 ** (db / 10);

/** Feeds per-frame levels (dB, or null for silence) of the two speaker outputs; returns every segment closed. */
function segments(frames: [number | null, number | null][]): VoiceSegment[] {
  const seg = new VoiceSegmenter(P);
  const out: VoiceSegment[] = [];
  for (const [a, b] of frames) out.push(...seg.push([a === null ? 0 : level(a), b === null ? 0 : level(b)]));
  return [...out, ...seg.finish()];
}

const repeat = <T>(n: number, v: T): T[] => Array.from({ length: n }, () => v);

describe('VoiceSegmenter', () => {
  it('takes an output more than activeBelowOtherDb under the other for leak (what a background leaves there), not speech', () => {
    const leak = -20 - P.activeBelowOtherDb - 2;
    const segs = segments(repeat(15, [-20, leak]));
    expect(segs).toEqual([{ output: 0, start: 0, end: 15, solo: true }]);
  });

  it('sees two voices at similar levels as two segments that are not solo', () => {
    const segs = segments(repeat(15, [-20, -20 - P.activeBelowOtherDb + 2]));
    expect(segs.map((s) => [s.output, s.solo])).toEqual([
      [0, false],
      [1, false],
    ]);
  });

  it('ends a segment at a pause longer than gapFrames (a turn change on the same output gets a voiceprint of its own)', () => {
    const pause = repeat<[null, null]>(P.gapFrames + 1, [null, null]);
    const segs = segments([...repeat(12, [-20, null]), ...pause, ...repeat(12, [-20, null])]);
    expect(segs.map((s) => [s.start, s.end])).toEqual([
      [0, 12],
      [12 + P.gapFrames + 1, 24 + P.gapFrames + 1],
    ]);
  });

  it('bridges a pause of gapFrames inside a run, and cuts long runs at maxSegmentFrames', () => {
    const breath = repeat<[null, null]>(P.gapFrames, [null, null]);
    const n = P.maxSegmentFrames + 10;
    const segs = segments([...repeat(5, [-20, null]), ...breath, ...repeat(n - 5 - P.gapFrames, [-20, null])]);
    expect(segs.map((s) => [s.start, s.end, !!s.tail])).toEqual([
      [0, P.maxSegmentFrames, false],
      [P.maxSegmentFrames, n, false],
    ]);
  });
});

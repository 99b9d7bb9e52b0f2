import { describe, expect, it } from 'vitest';
import { ASSOCIATE_DEFAULTS } from './params';
import { VoiceSegmenter, type VoiceSegment } from './voice-segments';

const P = ASSOCIATE_DEFAULTS;
const level = (db: number) => 10 ** (db / 10);

/** One frame's level of each speaker output in dB, or null for silence. */
type Frame = [number | null, number | null];
const SILENT: Frame = [null, null];
const ALONE: Frame = [-20, null];

/** Feeds the frames to a segmenter; returns every segment closed. */
function segments(frames: Frame[]): VoiceSegment[] {
  const seg = new VoiceSegmenter(P);
  const out: VoiceSegment[] = [];
  for (const [a, b] of frames) out.push(...seg.push([a === null ? 0 : level(a), b === null ? 0 : level(b)]));
  return [...out, ...seg.finish()];
}

const repeat = (n: number, v: Frame): Frame[] => Array.from({ length: n }, () => v);

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
    const pause = repeat(P.gapFrames + 1, SILENT);
    const segs = segments([...repeat(12, ALONE), ...pause, ...repeat(12, ALONE)]);
    expect(segs.map((s) => [s.start, s.end])).toEqual([
      [0, 12],
      [12 + P.gapFrames + 1, 24 + P.gapFrames + 1],
    ]);
  });

  it('bridges a pause of gapFrames inside a run, and cuts long runs at maxSegmentFrames', () => {
    const breath = repeat(P.gapFrames, SILENT);
    const n = P.maxSegmentFrames + 10;
    const segs = segments([...repeat(5, ALONE), ...breath, ...repeat(n - 5 - P.gapFrames, ALONE)]);
    expect(segs.map((s) => [s.start, s.end, !!s.tail])).toEqual([
      [0, P.maxSegmentFrames, false],
      [P.maxSegmentFrames, n, false],
    ]);
  });
});

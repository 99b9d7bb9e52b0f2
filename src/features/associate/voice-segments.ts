/**
 * Finds stretches of speech on each speaker output, as the separated audio
 * streams in: the units the associate stage gets a voiceprint for. A frame is
 * active on an output when it is loud enough overall and not just the other
 * output's leak; runs of active frames (bridging short gaps) become segments.
 */
import type { AssociateParams } from './params';

export interface VoiceSegment {
  /** Which speaker output (0 or 1, in speaker order). */
  output: number;
  /** Frame range [start, end). */
  start: number;
  end: number;
  /**
   * The short rest of a run cut at maxSegmentFrames: too short for its own
   * voiceprint, it is the same voice as the piece before it.
   */
  tail?: boolean;
  /**
   * The other speaker output was silent for most of it: a voice on its own. Only these teach the voice profiles;
   * a voice split across both outputs (which the separator does now and then) or true crosstalk would blur them.
   */
  solo: boolean;
}

const db = (meanSquare: number) => 10 * Math.log10(meanSquare + 1e-10);

/** The loudest 0.5 s seen so far (a moving average, so one click does not set it). */
class RunningTop {
  private recent: number[] = [];
  top = -Infinity;
  push(level: number): number {
    this.recent.push(level);
    if (this.recent.length > 5) this.recent.shift();
    const mean = this.recent.reduce((a, b) => a + b, 0) / this.recent.length;
    this.top = Math.max(this.top, db(mean));
    return this.top;
  }
}

interface Open {
  start: number;
  lastActive: number;
  /** Frames in it where the other output was active too. */
  shared: number;
  /** Opened where a run was cut at maxSegmentFrames. */
  continued: boolean;
}

export class VoiceSegmenter {
  private readonly open: (Open | undefined)[] = [undefined, undefined];
  private readonly top = new RunningTop();
  /** Per output, the frame right after the last cut at maxSegmentFrames. */
  private readonly cut = [-1, -1];
  /** Frames analysed so far. */
  frames = 0;

  constructor(private readonly p: AssociateParams) {}

  /** The first frame an unfinished segment covers (Infinity when none is open): routes before it are final. */
  get openFrom(): number {
    return Math.min(this.open[0]?.start ?? Infinity, this.open[1]?.start ?? Infinity);
  }

  /** One frame's mean-square level of each speaker output; returns the segments it closed. */
  push(levels: readonly [number, number]): VoiceSegment[] {
    const f = this.frames++;
    const top = this.top.push(Math.max(levels[0], levels[1]));
    const closed: VoiceSegment[] = [];
    const active = [0, 1].map((k) => {
      const own = db(levels[k]);
      return own > this.p.silenceDb && own > top - this.p.activeBelowTopDb && own > db(levels[1 - k]) - this.p.activeBelowOtherDb;
    });
    for (const k of [0, 1]) {
      const o = this.open[k];
      if (active[k]) {
        if (!o) this.open[k] = { start: f, lastActive: f, shared: 0, continued: this.cut[k] === f };
        else o.lastActive = f;
        if (active[1 - k]) this.open[k]!.shared++;
        const cur = this.open[k]!;
        if (f + 1 - cur.start >= this.p.maxSegmentFrames) {
          this.close(k, f + 1, closed);
          this.cut[k] = f + 1;
        }
      } else if (o && f - o.lastActive > this.p.gapFrames) {
        this.close(k, o.lastActive + 1, closed);
      }
    }
    return closed;
  }

  /** Closes whatever is open (end of input). */
  finish(): VoiceSegment[] {
    const closed: VoiceSegment[] = [];
    for (const k of [0, 1]) {
      const o = this.open[k];
      if (o) this.close(k, o.lastActive + 1, closed);
    }
    return closed;
  }

  private close(k: number, end: number, into: VoiceSegment[]): void {
    const o = this.open[k]!;
    this.open[k] = undefined;
    const solo = o.shared <= this.p.soloShare * (end - o.start);
    if (end - o.start >= this.p.minSegmentFrames) into.push({ output: k, start: o.start, end, solo });
    else if (o.continued) into.push({ output: k, start: o.start, end, tail: true, solo });
  }
}

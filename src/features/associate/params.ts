/**
 * The associate stage's tuning, in one place. Levels in dB, times in frames
 * of FRAME_SECONDS. Measured on two-person conversations made from the val
 * speakers and on the AMI meetings (training/conversations.py; where it
 * loses: training/routing.py); see training/MODEL_CARD.md, sessions
 * "2026-12-06 (eighth)" and "2026-12-07 (ninth)".
 */
export const FRAME_SECONDS = 0.1;

export interface AssociateParams {
  /** Below this mean-square level (dB re full scale) an output is silent, whatever the rest of the file does. */
  silenceDb: number;
  /** An output is active in a frame when within this many dB of the loudest frame so far… */
  activeBelowTopDb: number;
  /** …and no more than this many dB below the other speaker output (else it is the other's leak). */
  activeBelowOtherDb: number;
  /** A segment is solo (teaches the voice profiles) when the other output was active in at most this share of it. */
  soloShare: number;
  /** Inactive frames a segment bridges (a breath inside a sentence). */
  gapFrames: number;
  /** Segments shorter than this carry no voiceprint (too little speech to judge). */
  minSegmentFrames: number;
  /** Longer runs are cut: each piece gets its own voiceprint, so a change inside a long run is still seen. */
  maxSegmentFrames: number;
  /** Two voice centroids closer than this cosine are one voice (one person is never split in two). */
  oneVoice: number;
  /** Two voices already known stay two until their centroids are this much nearer than `oneVoice`. */
  oneVoiceHysteresis: number;
  /** Frames of speech (over all its segments) a second voice needs before it gets a track. */
  minVoiceFrames: number;
  /** Route confidence of a segment while only one voice is known (it stays on that voice's track). */
  oneVoiceConfidence: number;
  /** Voiceprints the 2-means runs over (the most recent): bounds memory and time on long inputs. */
  historySegments: number;
  /** Cost of switching routes between two frames, in units of (confidence × frames). */
  switchCost: number;
  /** Frames of hindsight before a route is final (lets a later, surer segment overrule). */
  lookaheadFrames: number;
  /** Frames routes are held back at the start while only one voice is known (its first turns wait for the second). */
  warmupFrames: number;
  /** Samples over which a route change cross-fades. */
  crossFadeSamples: number;
}

export const ASSOCIATE_DEFAULTS: AssociateParams = {
  silenceDb: -70,
  activeBelowTopDb: 30,
  activeBelowOtherDb: 6,
  soloShare: 0.2,
  gapFrames: 1,
  minSegmentFrames: 8,
  maxSegmentFrames: 20,
  oneVoice: 0.35,
  oneVoiceHysteresis: 0.05,
  minVoiceFrames: 30,
  oneVoiceConfidence: 0.2,
  historySegments: 400,
  switchCost: 2,
  lookaheadFrames: 10,
  warmupFrames: 200,
  crossFadeSamples: 160,
};

/** What the stages hand each other. Stages pass chunks, never "the whole file". */

export type StageName = 'probe' | 'decode' | 'separate' | 'finish';

export interface StreamFacts {
  index: number;
  type: 'audio' | 'video' | 'other';
  codec: string;
  /** Audio only. */
  sampleRate?: number;
  channels?: number;
  /** Video only. */
  width?: number;
  height?: number;
}

/** What probing learned about an input file. */
export interface MediaFacts {
  fileName: string;
  sizeBytes: number;
  /** Container guessed from magic bytes (e.g. "mp4", "matroska", "wav"). */
  container: string;
  durationSec: number;
  streams: StreamFacts[];
  /** Sample rate of the first audio stream. */
  sampleRate: number;
  channels: number;
}

/** A run of 16 kHz mono samples starting at `start` (a sample index into the whole input). */
export interface PcmChunk {
  start: number;
  samples: Float32Array;
}

/**
 * Finalized separated audio: one array per model output (manifest `sources`
 * order), all the same length, covering [start, start + length) of the input.
 * Blocks arrive in order and cover the whole input exactly once.
 */
export interface SeparatedBlock {
  start: number;
  sources: Float32Array[];
}

export interface StageProgress {
  stage: StageName;
  /** 0..1 within the stage. */
  fraction: number;
}

export type ProgressFn = (p: StageProgress) => void;

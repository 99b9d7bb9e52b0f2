/**
 * The fallback sink, for browsers without OPFS (some private modes): tracks
 * are kept as 16-bit PCM pieces (half the size of float) and become WAV Blobs
 * at close. Bounded by memory: fine for minutes, not for hours; the results
 * view says so.
 */
import type { SourceSpec } from '../../features/model/manifest';
import { wavHeader16 } from '../../features/export/wav';
import { VoxError } from '../../lib/errors';
import { MODEL_SAMPLE_RATE } from '../../lib/limits';
import type { SeparatedBlock } from '../types';
import { BlockEncoder, type SeparatedTrack, type TrackSink, type TrackStorage } from './track-sink';

export type { SeparatedTrack, TrackSink, TrackStorage } from './track-sink';

export class MemorySink implements TrackSink {
  readonly storage: TrackStorage;
  private parts: Uint8Array<ArrayBuffer>[][];
  private readonly encoder: BlockEncoder;
  private written = 0;

  constructor(
    private readonly sources: SourceSpec[],
    note?: string,
  ) {
    this.storage = { kind: 'memory', jobId: null, note };
    this.encoder = new BlockEncoder(sources);
    this.parts = sources.map(() => []);
  }

  async write(block: SeparatedBlock): Promise<void> {
    if (block.start !== this.written) throw new VoxError('internal', `Block at ${block.start}, expected ${this.written}.`);
    const pcm = this.encoder.encode(block);
    pcm.forEach((p, i) => this.parts[i].push(p));
    this.written += block.sources[0].length;
  }

  async close(totalSamples: number): Promise<SeparatedTrack[]> {
    if (this.written < totalSamples) throw new VoxError('separation-failed', `Only ${this.written} of ${totalSamples} samples were separated.`);
    const tracks = this.sources.map((source, i) => {
      const parts = trimTo(this.parts[i], totalSamples * 2);
      return {
        source,
        sampleRate: MODEL_SAMPLE_RATE,
        frames: totalSamples,
        wav: new Blob([wavHeader16(MODEL_SAMPLE_RATE, totalSamples), ...parts], { type: 'audio/wav' }),
        peaks: this.encoder.peaksOf(i),
      };
    });
    this.parts = this.sources.map(() => []);
    return tracks;
  }

  async discard(): Promise<void> {
    this.parts = this.sources.map(() => []);
  }
}

/** The pieces covering the first `bytes` bytes. */
function trimTo(parts: Uint8Array<ArrayBuffer>[], bytes: number): Uint8Array<ArrayBuffer>[] {
  const out: Uint8Array<ArrayBuffer>[] = [];
  let left = bytes;
  for (const p of parts) {
    if (left <= 0) break;
    out.push(p.length <= left ? p : p.subarray(0, left));
    left -= p.length;
  }
  return out;
}

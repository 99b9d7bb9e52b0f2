/**
 * Where separated blocks land, and what a finished job hands the results view.
 * Two sinks share this shape: OpfsSink (the default: tracks stream to disk as
 * they are produced) and MemorySink (the fallback where a browser has no OPFS).
 * Either way a track ends as a 16-bit WAV Blob plus its waveform peaks: the
 * app never holds a track's samples once separation has handed them over.
 */
import type { SourceSpec } from '../../features/model/manifest';
import { PeakAccumulator, type Peaks } from '../../features/storage/peaks';
import { floatToPcm16 } from '../../features/export/wav';
import { VoxError } from '../../lib/errors';
import type { SeparatedBlock } from '../types';

export interface SeparatedTrack {
  source: SourceSpec;
  sampleRate: number;
  frames: number;
  /** The track as a mono 16-bit WAV at `sampleRate`: a disk-backed File in OPFS, or a Blob. The 16 kHz download is this. */
  wav: Blob;
  peaks: Peaks;
}

export interface TrackStorage {
  kind: 'opfs' | 'memory';
  /** The job's OPFS folder (jobs/<jobId>/); null in memory. Downloads made later go there too. */
  jobId: string | null;
  /** Why the tracks are in memory, for the user. */
  note?: string;
}

export interface TrackSink {
  readonly storage: TrackStorage;
  /** Takes the next block (in order, as SeparatedBlock promises). Resolves once it is stored. */
  write(block: SeparatedBlock): Promise<void>;
  /** Ends the tracks at `totalSamples`; throws if fewer were written. */
  close(totalSamples: number): Promise<SeparatedTrack[]>;
  /** Frees everything the sink holds, files included (cancel, failure, the next job). Never throws. */
  discard(): Promise<void>;
}

/** Float blocks → 16-bit PCM per track, with peaks accumulated on the way; both sinks use it. */
export class BlockEncoder {
  private readonly peaks: PeakAccumulator[];

  constructor(readonly sources: SourceSpec[]) {
    this.peaks = sources.map(() => new PeakAccumulator());
  }

  encode(block: SeparatedBlock): Uint8Array<ArrayBuffer>[] {
    if (block.sources.length !== this.sources.length) {
      throw new VoxError('internal', `Block has ${block.sources.length} sources, expected ${this.sources.length}.`);
    }
    const n = block.sources[0].length;
    return block.sources.map((s, i) => {
      if (s.length !== n) throw new VoxError('internal', 'The sources of a block differ in length.');
      this.peaks[i].add(s);
      return floatToPcm16(s);
    });
  }

  peaksOf(i: number): Peaks {
    return this.peaks[i].result();
  }
}

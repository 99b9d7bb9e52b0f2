/**
 * Where separated blocks land. Today: memory. Long media later swaps this for
 * an OPFS sink with the same shape, without touching the stages.
 */
import type { SourceSpec } from '../../features/model/manifest';
import { MODEL_SAMPLE_RATE } from '../../lib/limits';
import type { SeparatedBlock } from '../types';

export interface SeparatedTrack {
  source: SourceSpec;
  sampleRate: number;
  samples: Float32Array;
}

export interface TrackSink {
  write(block: SeparatedBlock): void;
  close(totalSamples: number): SeparatedTrack[];
}

export class MemorySink implements TrackSink {
  private buffers: Float32Array[];
  private written = 0;

  constructor(
    private readonly sources: SourceSpec[],
    expectedSamples: number,
  ) {
    this.buffers = sources.map(() => new Float32Array(Math.max(1, Math.ceil(expectedSamples))));
  }

  write(block: SeparatedBlock): void {
    if (block.sources.length !== this.sources.length) {
      throw new Error(`Block has ${block.sources.length} sources, expected ${this.sources.length}`);
    }
    const end = block.start + block.sources[0].length;
    if (end > this.buffers[0].length) this.grow(end);
    block.sources.forEach((s, i) => this.buffers[i].set(s, block.start));
    this.written = Math.max(this.written, end);
  }

  close(totalSamples: number): SeparatedTrack[] {
    if (this.written < totalSamples) throw new Error(`Only ${this.written} of ${totalSamples} samples were separated`);
    return this.sources.map((source, i) => ({
      source,
      sampleRate: MODEL_SAMPLE_RATE,
      // slice, not subarray: drop the over-allocated tail from memory.
      samples: this.buffers[i].length === totalSamples ? this.buffers[i] : this.buffers[i].slice(0, totalSamples),
    }));
  }

  private grow(minLength: number): void {
    const length = Math.max(minLength, Math.ceil(this.buffers[0].length * 1.25));
    this.buffers = this.buffers.map((b) => {
      const n = new Float32Array(length);
      n.set(b);
      return n;
    });
  }
}

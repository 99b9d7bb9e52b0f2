/**
 * Cuts decoded audio, arriving in runs of any length (today one run per file;
 * later one per decoded segment of a long recording), into the PcmChunks the
 * next stage takes: exactly `size` samples each except the last, numbered by
 * their first sample in the whole input, each in its own transferable buffer.
 */
import type { PcmChunk } from '../../pipeline/types';
import { CHUNK_SAMPLES } from './shared';

export class Chunker {
  private pending: Float32Array[] = [];
  private pendingLength = 0;
  private nextStart = 0;

  constructor(private readonly size: number = CHUNK_SAMPLES) {
    if (!(size > 0)) throw new RangeError('chunk size must be positive');
  }

  /** Samples handed out so far. */
  get emitted(): number {
    return this.nextStart;
  }

  /** Adds a run of samples; returns the chunks it completes. `samples` is copied, not kept. */
  push(samples: Float32Array): PcmChunk[] {
    const out: PcmChunk[] = [];
    let at = 0;
    while (at < samples.length) {
      const need = this.size - this.pendingLength;
      const take = Math.min(need, samples.length - at);
      if (this.pendingLength === 0 && take === this.size) {
        out.push(this.emit(samples.slice(at, at + take)));
      } else {
        this.pending.push(samples.subarray(at, at + take).slice());
        this.pendingLength += take;
        if (this.pendingLength === this.size) out.push(this.emit(this.joinPending()));
      }
      at += take;
    }
    return out;
  }

  /** Returns the last, shorter chunk (if any samples are left). */
  flush(): PcmChunk[] {
    return this.pendingLength ? [this.emit(this.joinPending())] : [];
  }

  private joinPending(): Float32Array {
    const joined = this.pending.length === 1 ? this.pending[0] : new Float32Array(this.pendingLength);
    if (this.pending.length > 1) {
      let o = 0;
      for (const p of this.pending) {
        joined.set(p, o);
        o += p.length;
      }
    }
    this.pending = [];
    this.pendingLength = 0;
    return joined;
  }

  private emit(samples: Float32Array): PcmChunk {
    const chunk = { start: this.nextStart, samples };
    this.nextStart += samples.length;
    return chunk;
  }
}

/**
 * The long-media sink: every block goes to the storage worker as 16-bit PCM
 * (made here, transferred, not copied) and is written at its place in one
 * WAV file per track under jobs/<jobId>/ in the Origin Private File System.
 * At close the headers are patched and the files come back as disk-backed
 * Files: the results view plays them and the 16 kHz download is the file
 * itself. What stays in memory is the peaks (a few KiB per track).
 */
import * as Comlink from 'comlink';
import type { SourceSpec } from '../../features/model/manifest';
import { holdJobLock, newJobId, storageCall } from '../../features/storage/client';
import { MODEL_SAMPLE_RATE } from '../../lib/limits';
import type { SeparatedBlock } from '../types';
import { BlockEncoder, type SeparatedTrack, type TrackSink, type TrackStorage } from './track-sink';

export class OpfsSink implements TrackSink {
  readonly storage: TrackStorage;
  private readonly encoder: BlockEncoder;
  private discarded: Promise<void> | null = null;
  /** What writing cost (logged at close): PCM bytes, ms converting in the page, ms until the worker had written. */
  private readonly timing = { bytes: 0, encodeMs: 0, writeMs: 0 };

  private constructor(
    private readonly sources: SourceSpec[],
    private readonly jobId: string,
    private readonly releaseLock: () => void,
  ) {
    this.storage = { kind: 'opfs', jobId };
    this.encoder = new BlockEncoder(sources);
  }

  /** Takes the job's lock, then makes its folder and files (refused if the quota cannot hold `expectedFrames`). */
  static async open(sources: SourceSpec[], expectedFrames: number): Promise<OpfsSink> {
    const jobId = newJobId();
    const release = await holdJobLock(jobId);
    try {
      const bytes = sources.length * (44 + Math.max(0, expectedFrames) * 2);
      await storageCall('internal', (a) => a.open(jobId, sources.length, MODEL_SAMPLE_RATE, bytes));
    } catch (e) {
      release();
      throw e;
    }
    return new OpfsSink(sources, jobId, release);
  }

  async write(block: SeparatedBlock): Promise<void> {
    const t0 = performance.now();
    const pcm = this.encoder.encode(block);
    this.timing.bytes += pcm.reduce((s, p) => s + p.length, 0);
    this.timing.encodeMs += performance.now() - t0;
    await storageCall('separation-failed', (a) =>
      a.write(
        this.jobId,
        block.start,
        Comlink.transfer(
          pcm,
          pcm.map((p) => p.buffer),
        ),
      ),
    );
    this.timing.writeMs += performance.now() - t0;
  }

  async close(totalSamples: number): Promise<SeparatedTrack[]> {
    const t0 = performance.now();
    const files = await storageCall('separation-failed', (a) => a.close(this.jobId, totalSamples));
    const { bytes, encodeMs, writeMs } = this.timing;
    console.info(
      `OPFS sink: ${(bytes / 2 ** 20).toFixed(1)} MiB in ${writeMs.toFixed(0)} ms (encoding and peaks ${encodeMs.toFixed(0)} ms of it, in the page), close ${(performance.now() - t0).toFixed(0)} ms`,
    );
    return this.sources.map((source, i) => ({
      source,
      sampleRate: MODEL_SAMPLE_RATE,
      frames: totalSamples,
      wav: files[i],
      peaks: this.encoder.peaksOf(i),
    }));
  }

  discard(): Promise<void> {
    this.discarded ??= storageCall('internal', (a) => a.remove(this.jobId))
      .catch((e: unknown) => console.warn(`Could not delete the files of job ${this.jobId}; the next start will.`, e))
      .finally(() => this.releaseLock());
    return this.discarded;
  }
}

/**
 * The separate stage: PCM chunks in, separated blocks out to a sink, progress
 * as samples finalized / total. Thin: the work is in features/separate.
 */
import { VoxError } from '../lib/errors';
import { abortable } from '../lib/abortable';
import type { SeparateClient } from '../features/separate/client';
import type { PcmChunk, ProgressFn, SeparatedBlock } from './types';

export interface SeparateStageOptions {
  /** A client whose load() already resolved. */
  client: Pick<SeparateClient, 'push' | 'finish'>;
  /** Expected input length in samples (from probing); progress uses max(this, samples pushed). */
  totalSamples: number;
  /** Receives every block, in order, exactly once. */
  sink: (block: SeparatedBlock) => void | Promise<void>;
  onProgress?: ProgressFn;
  signal?: AbortSignal;
}

export interface SeparateStage {
  push(chunk: PcmChunk): Promise<void>;
  /** Ends the input; resolves with the number of samples separated. */
  finish(): Promise<number>;
}

const cancellable = <T>(p: Promise<T>, signal?: AbortSignal): Promise<T> => (signal ? abortable(p, signal) : p);

export function separateStage(opts: SeparateStageOptions): SeparateStage {
  const { client, sink, onProgress, signal } = opts;
  let pushed = 0;
  let done = 0;

  const deliver = async (blocks: SeparatedBlock[]) => {
    for (const b of blocks) {
      if (b.start !== done) throw new VoxError('internal', `Separated block at ${b.start}, expected ${done}.`);
      await sink(b);
      done += b.sources[0]?.length ?? 0;
    }
  };
  const report = (fraction: number) => onProgress?.({ stage: 'separate', fraction });

  return {
    async push(chunk) {
      pushed += chunk.samples.length;
      await deliver(await cancellable(client.push(chunk), signal));
      report(Math.min(0.99, done / Math.max(1, opts.totalSamples, pushed)));
    },
    async finish() {
      await deliver(await cancellable(client.finish(), signal));
      if (done !== pushed) throw new VoxError('separation-failed', `Separated ${done} of ${pushed} samples.`);
      report(1);
      return done;
    },
  };
}

/** Runs the stage over a whole stream of chunks. */
export async function separateAll(chunks: AsyncIterable<PcmChunk> | Iterable<PcmChunk>, opts: SeparateStageOptions): Promise<number> {
  const stage = separateStage(opts);
  for await (const chunk of chunks) await stage.push(chunk);
  return stage.finish();
}

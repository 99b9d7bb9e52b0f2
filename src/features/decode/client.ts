/**
 * The page's handle on the decode worker. The app calls exactly this
 * interface; every failure arrives as a VoxError, and dispose() is cancel:
 * it terminates the worker (and with it ffmpeg and its threads) at once, and
 * any call still waiting rejects with VoxError('cancelled') instead of hanging.
 */
import * as Comlink from 'comlink';
import { toVoxError, VoxError, type ErrorCode } from '../../lib/errors';
import type { Limits } from '../../lib/limits';
import type { MediaFacts, PcmChunk } from '../../pipeline/types';
import type { DecodeClientOptions, DecodeEngineInfo, DecodeWorkerApi } from './shared';

export type { DecodeClientOptions, DecodeEngineInfo } from './shared';

export interface DecodeClient {
  /** Reads facts with ffprobe (or ffmpeg -i log parsing); throws VoxError: file-not-media, file-truncated, file-corrupt, file-no-audio, file-too-long (vs limits.maxDurationSec), decode-failed. */
  probe(file: File, container: string, limits: Limits): Promise<MediaFacts>;
  /** Decodes the first audio stream to 16 kHz mono float32 and delivers it in order as PcmChunks of ~10 s (transfer the buffers), reporting progress 0..1. Resolves with the total number of samples. */
  decode(
    file: File,
    facts: MediaFacts,
    onChunk: (c: PcmChunk) => void | Promise<void>,
    onProgress: (fraction: number) => void,
  ): Promise<{ totalSamples: number }>;
  /** Terminates the workers at once (this is how cancel works and frees memory); the client cannot be used afterwards. */
  dispose(): void;
}

export interface DecodeClientWithEngine extends DecodeClient {
  /** Loads ffmpeg if needed (useful to warm it up) and tells which core runs. */
  engine(): Promise<DecodeEngineInfo>;
}

export function createDecodeClient(options: DecodeClientOptions = {}): DecodeClientWithEngine {
  const worker = new Worker(new URL('./worker.ts', import.meta.url), { type: 'module', name: 'voxsplit-decode' });
  const remote = Comlink.wrap<DecodeWorkerApi>(worker);
  let dead: VoxError | null = null;
  const waiting = new Set<(e: VoxError) => void>();

  const stop = (why: VoxError) => {
    if (dead) return;
    dead = why;
    worker.terminate();
    for (const reject of waiting) reject(why);
    waiting.clear();
  };

  // The worker's script failed to load or threw outside any call: fail what waits.
  worker.addEventListener('error', (ev) => {
    ev.preventDefault();
    stop(new VoxError('decode-failed', `The decoder stopped${ev.message ? `: ${ev.message}` : '.'}`));
  });
  worker.addEventListener('messageerror', () => stop(new VoxError('decode-failed', 'The decoder sent a message that could not be read.')));

  if (options.core) void remote.configure(options).catch(() => {});

  /** Runs one worker call; rejects with a VoxError, and with "cancelled" if dispose() comes first. */
  function call<T>(fn: () => Promise<T>, fallback: ErrorCode): Promise<T> {
    if (dead) return Promise.reject(dead);
    return new Promise<T>((resolve, reject) => {
      const onStop = (e: VoxError) => reject(e);
      waiting.add(onStop);
      fn().then(
        (v) => {
          waiting.delete(onStop);
          resolve(v);
        },
        (e: unknown) => {
          waiting.delete(onStop);
          reject(dead ?? toVoxError(e, fallback));
        },
      );
    });
  }

  return {
    probe: (file, container, limits) => call(() => remote.probe(file, container, limits), 'decode-failed'),
    decode: (file, facts, onChunk, onProgress) =>
      call(() => remote.decode(file, facts, Comlink.proxy(onChunk), Comlink.proxy(onProgress)), 'decode-failed'),
    engine: () => call(() => remote.engine(), 'decode-failed'),
    dispose: () => stop(new VoxError('cancelled')),
  };
}

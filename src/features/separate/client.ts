/**
 * The app's handle on separation. Each client owns one worker; dispose()
 * terminates it at once (cancel) and settles every pending call with
 * VoxError('cancelled'), so nothing awaits a dead worker.
 */
import * as Comlink from 'comlink';
import { toVoxError, VoxError, type ErrorCode } from '../../lib/errors';
import type { PcmChunk, SeparatedBlock } from '../../pipeline/types';
import type { LoadOptions, ModelInfo, SeparateWorkerApi } from './shared';

export type { LoadOptions, ModelInfo } from './shared';
export type { SeparatedBlock } from '../../pipeline/types';

export interface SeparateClient {
  /** Verifies manifest + artifacts, creates the session. Throws VoxError (model-*, backend-unavailable). */
  load(opts: LoadOptions): Promise<ModelInfo>;
  /** Streams input; resolves with finalized output blocks (possibly none yet). Transfers chunk.samples' buffer when it owns it whole. */
  push(chunk: PcmChunk): Promise<SeparatedBlock[]>;
  /** Ends the input; resolves with the remaining blocks. The client then accepts a new input (same model). */
  finish(): Promise<SeparatedBlock[]>;
  /** Terminates the worker at once (cancel); frees memory; the client is unusable afterwards. */
  dispose(): void;
}

export function defaultModelBaseUrl(): string {
  return new URL(`${import.meta.env.BASE_URL}models/`, self.location.href).href;
}

/** A view that spans its whole (non-shared) buffer can be transferred; anything else is copied first. */
function ownedSamples(s: Float32Array): Float32Array {
  const shared = typeof SharedArrayBuffer !== 'undefined' && s.buffer instanceof SharedArrayBuffer;
  return !shared && s.byteOffset === 0 && s.byteLength === s.buffer.byteLength ? s : s.slice();
}

export function createSeparateClient(): SeparateClient {
  let worker: Worker | null = null;
  let api: Comlink.Remote<SeparateWorkerApi> | null = null;
  let loadedKey: string | null = null;
  let disposed = false;
  const pending = new Set<(e: VoxError) => void>();

  const failAll = (e: VoxError) => {
    for (const reject of [...pending]) reject(e);
    pending.clear();
  };

  const stop = () => {
    worker?.terminate();
    worker = null;
    api = null;
    loadedKey = null;
  };

  const spawn = (): Comlink.Remote<SeparateWorkerApi> => {
    const w = new Worker(new URL('./worker.ts', import.meta.url), { type: 'module', name: 'voxsplit-separate' });
    w.addEventListener('error', (ev) => {
      ev.preventDefault?.();
      if (worker !== w) return;
      const msg = (ev as ErrorEvent).message || 'the separation worker could not start or crashed';
      stop();
      failAll(new VoxError('separation-failed', msg));
    });
    w.addEventListener('messageerror', () => failAll(new VoxError('internal', 'A message from the separation worker could not be read.')));
    worker = w;
    api = Comlink.wrap<SeparateWorkerApi>(w);
    return api;
  };

  function call<T>(fallback: ErrorCode, f: (a: Comlink.Remote<SeparateWorkerApi>) => Promise<T>): Promise<T> {
    if (disposed) return Promise.reject(new VoxError('cancelled'));
    const a = api ?? spawn();
    return new Promise<T>((resolve, reject) => {
      const abort = (e: VoxError) => reject(e);
      pending.add(abort);
      f(a).then(
        (v) => {
          pending.delete(abort);
          resolve(v);
        },
        (e) => {
          pending.delete(abort);
          reject(toVoxError(e, fallback));
        },
      );
    });
  }

  return {
    load(opts) {
      const full = { backend: opts.backend, threads: opts.threads, associate: opts.associate, modelBaseUrl: opts.modelBaseUrl ?? defaultModelBaseUrl() };
      const key = `${full.backend}/${full.threads ?? 'max'}`;
      // ORT initialises its wasm once per worker: another backend or thread count needs a fresh worker.
      if (loadedKey !== null && loadedKey !== key && !disposed) stop();
      return call('internal', (a) => a.load(full)).then((info) => {
        loadedKey = key;
        return info;
      });
    },
    push(chunk) {
      return call('separation-failed', (a) => {
        const samples = ownedSamples(chunk.samples);
        return a.push(Comlink.transfer({ start: chunk.start, samples }, [samples.buffer as ArrayBuffer]));
      });
    },
    finish() {
      return call('separation-failed', (a) => a.finish());
    },
    dispose() {
      if (disposed) return;
      disposed = true;
      stop();
      failAll(new VoxError('cancelled'));
    },
  };
}

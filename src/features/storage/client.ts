/**
 * The page's handle on the storage worker (one per page, kept for its
 * lifetime: it holds no audio, only open files), and the job locks that tell
 * a live job's folder from a crashed tab's leftovers.
 */
import * as Comlink from 'comlink';
import { toVoxError, VoxError, type ErrorCode } from '../../lib/errors';
import { JOB_LOCK_PREFIX, type StorageWorkerApi } from './shared';

export type { ExportEntry } from './shared';

type Api = Comlink.Remote<StorageWorkerApi>;

let worker: Worker | null = null;
let api: Api | null = null;
const pending = new Set<(e: VoxError) => void>();

function spawn(): Api {
  const w = new Worker(new URL('./worker.ts', import.meta.url), { type: 'module', name: 'voxsplit-storage' });
  w.addEventListener('error', (ev) => {
    ev.preventDefault();
    if (worker !== w) return;
    // A dead worker answers nothing: fail what waits, start a new one on the next call.
    worker = null;
    api = null;
    w.terminate();
    const e = new VoxError('internal', `The storage worker stopped${ev.message ? `: ${ev.message}` : '.'}`);
    for (const reject of [...pending]) reject(e);
    pending.clear();
  });
  worker = w;
  api = Comlink.wrap<StorageWorkerApi>(w);
  return api;
}

/** One worker call; every failure arrives as a VoxError. */
export function storageCall<T>(fallback: ErrorCode, f: (a: Api) => Promise<T>): Promise<T> {
  const a = api ?? spawn();
  return new Promise<T>((resolve, reject) => {
    const abort = (e: VoxError) => reject(e);
    pending.add(abort);
    f(a).then(
      (v) => {
        pending.delete(abort);
        resolve(v);
      },
      (e: unknown) => {
        pending.delete(abort);
        reject(toVoxError(e, fallback));
      },
    );
  });
}

/** Whether tracks can go to OPFS here (false in some private modes and old browsers). */
export function opfsAvailable(): Promise<boolean> {
  return storageCall('internal', (a) => a.available()).catch(() => false);
}

/** Deletes the folders of jobs no page holds (tabs closed or crashed mid-job); never throws. */
export async function sweepStaleJobs(): Promise<string[]> {
  try {
    return await storageCall('internal', (a) => a.sweep());
  } catch (e) {
    console.warn('Could not clean up old job files', e);
    return [];
  }
}

export function newJobId(): string {
  return `${Date.now().toString(36)}-${crypto.randomUUID()}`;
}

/**
 * Holds the job's Web Lock until the returned function is called (or the page
 * goes away: the browser releases it, and the next start sweeps the folder).
 */
export function holdJobLock(jobId: string): Promise<() => void> {
  return new Promise((granted, fail) => {
    navigator.locks
      .request(JOB_LOCK_PREFIX + jobId, () => new Promise<void>((release) => granted(release)))
      .catch(fail);
  });
}

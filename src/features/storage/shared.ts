/**
 * What the storage worker and its client both speak. Layout in the Origin
 * Private File System (one folder per job, nothing outside it):
 *
 *   jobs/<jobId>/<n>.wav          track n of the manifest's sources, 16-bit mono WAV at 16 kHz,
 *                                 written block by block as separation produces it; header patched at close
 *   jobs/<jobId>/export/<key>     downloads made on demand: a track at another rate, the zip
 *
 * A job's folder lives while its page holds the Web Lock `voxsplit-job:<jobId>`
 * (taken before the folder is made, released when the job is discarded or the
 * tab goes away). Folders whose lock nobody holds are leftovers of a closed or
 * crashed tab, never resumed: sweep() deletes them, and waits for the locks
 * other tabs hold to delete those folders once their tab lets go. Locks are
 * per origin, so a second tab's running job is never swept.
 */
export const JOBS_DIR = 'jobs';
export const EXPORT_DIR = 'export';
export const JOB_LOCK_PREFIX = 'voxsplit-job:';

export const trackFileName = (index: number) => `${index}.wav`;

export interface ExportEntry {
  /** Name inside the zip. */
  name: string;
  /** A mono 16-bit WAV (the track's file). */
  src: Blob;
}

/** 0..1, called at most every few hundred ms (a comlink proxy across the worker boundary). */
export type ProgressCallback = (fraction: number) => void;

export interface StorageWorkerApi {
  /** Whether this browser can write OPFS files from a worker (sync access handles); probed once. */
  available(): Promise<boolean>;
  /** Deletes the job folders nobody holds a lock for (resolves with their ids); deletes the others' once released. */
  sweep(): Promise<string[]>;
  /** Creates the job's folder and one empty WAV per track. `expectedBytes` is checked against the free quota. */
  open(jobId: string, tracks: number, sampleRate: number, expectedBytes: number): Promise<void>;
  /** Writes one block: `pcm[n]` (16-bit little-endian) for track n, starting at frame `startFrame`. */
  write(jobId: string, startFrame: number, pcm: Uint8Array[]): Promise<void>;
  /** Trims every track to `frames`, patches the headers, closes them; resolves with the (disk-backed) files. */
  close(jobId: string, frames: number): Promise<File[]>;
  /** Stops whatever the job is doing and deletes its folder. */
  remove(jobId: string): Promise<void>;
  /**
   * `src` at `toRate`, streamed into jobs/<jobId>/export/<key> (or into memory when
   * jobId is null: no OPFS). The same key is made once.
   */
  exportWav(jobId: string | null, key: string, src: Blob, toRate: number, onProgress?: ProgressCallback): Promise<Blob>;
  /** A stored zip of the entries, each at `toRate`, streamed likewise. */
  exportZip(jobId: string | null, key: string, entries: ExportEntry[], toRate: number, onProgress?: ProgressCallback): Promise<Blob>;
}

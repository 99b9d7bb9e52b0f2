/**
 * The storage worker: the only code that touches the Origin Private File
 * System. Tracks are written with FileSystemSyncAccessHandle (dedicated
 * workers only: synchronous, positioned, no copies through the page), and
 * downloads at another rate or as a zip are streamed from the track files
 * into new files, a slice at a time. Calls run one at a time, in order, so a
 * job's folder is never deleted under a write or created behind a sweep.
 */
import * as Comlink from 'comlink';
import { encodeForWorkerBoundary, VoxError, type ErrorCode } from '../../lib/errors';
import { formatBytes } from '../../lib/limits';
import { WAV_HEADER_BYTES, wavHeader16 } from '../export/wav';
import { wavAtRate, wavBytesAtRate, wavLayoutOf } from '../export/wav-stream';
import { ZIP_MAX_BYTES, ZipStream } from '../export/zip';
import { EXPORT_DIR, JOB_LOCK_PREFIX, JOBS_DIR, trackFileName, type ExportEntry, type ProgressCallback, type StorageWorkerApi } from './shared';

interface OpenJob {
  dir: FileSystemDirectoryHandle;
  files: FileSystemFileHandle[];
  handles: FileSystemSyncAccessHandle[];
  sampleRate: number;
  /** Frames written to every track so far (the end of the furthest block). */
  frames: number;
}

/** Jobs being written. */
const open = new Map<string, OpenJob>();
/** Jobs removed (or being removed): an export still streaming for one stops at its next slice. */
const removed = new Set<string>();
/** Exports already made, by job and key. */
const made = new Map<string, Blob>();

let queue: Promise<unknown> = Promise.resolve();

/** Runs calls one at a time, in arrival order; errors cross the worker boundary with their code. */
function serial<T>(fallback: ErrorCode, f: () => Promise<T>): Promise<T> {
  const run = async () => {
    try {
      return await f();
    } catch (e) {
      throw encodeForWorkerBoundary(storageError(e), fallback);
    }
  };
  const p = queue.then(run, run);
  queue = p.catch(() => {});
  return p;
}

/** A full disk has its own message; everything else keeps its code. */
function storageError(e: unknown): unknown {
  if (e instanceof DOMException && e.name === 'QuotaExceededError') {
    return new VoxError('export-failed', 'The browser has no storage space left for the separated tracks. Free some disk space, then try again.');
  }
  return e;
}

const root = () => navigator.storage.getDirectory();
const jobsDir = async () => (await root()).getDirectoryHandle(JOBS_DIR, { create: true });

async function jobDir(jobId: string): Promise<FileSystemDirectoryHandle> {
  try {
    return await (await jobsDir()).getDirectoryHandle(jobId);
  } catch {
    throw new VoxError('cancelled', 'The job’s files are gone (a newer job replaced it).');
  }
}

function checkLive(jobId: string | null): void {
  if (jobId !== null && removed.has(jobId)) throw new VoxError('cancelled');
}

/** Writes all of `bytes` at `at`, or throws: a short write means the disk or quota is full. */
function writeAll(h: FileSystemSyncAccessHandle, bytes: Uint8Array, at: number): void {
  const n = h.write(bytes as Uint8Array<ArrayBuffer>, { at });
  if (n !== bytes.length) throw new DOMException(`Wrote ${n} of ${bytes.length} bytes`, 'QuotaExceededError');
}

let probed: Promise<boolean> | undefined;

async function probe(): Promise<boolean> {
  if (typeof navigator.storage?.getDirectory !== 'function' || typeof navigator.locks?.query !== 'function') return false;
  if (typeof FileSystemFileHandle === 'undefined' || !('createSyncAccessHandle' in FileSystemFileHandle.prototype)) return false;
  const name = `.probe-${crypto.randomUUID()}`;
  try {
    const dir = await root();
    const h = await (await dir.getFileHandle(name, { create: true })).createSyncAccessHandle();
    try {
      writeAll(h, new Uint8Array(1), 0);
    } finally {
      h.close();
    }
    await dir.removeEntry(name);
    return true;
  } catch {
    return false;
  }
}

function closeHandles(job: OpenJob): void {
  for (const h of job.handles) {
    try {
      h.close();
    } catch {
      /* already closed */
    }
  }
}

async function deleteJob(jobId: string): Promise<void> {
  const job = open.get(jobId);
  if (job) closeHandles(job);
  open.delete(jobId);
  for (const k of [...made.keys()]) if (k.startsWith(`${jobId}/`)) made.delete(k);
  try {
    await (await jobsDir()).removeEntry(jobId, { recursive: true });
  } catch (e) {
    if (!isNotFound(e)) throw e;
  }
}

/** A folder already gone counts as deleted. */
const isNotFound = (e: unknown): boolean => e instanceof DOMException && e.name === 'NotFoundError';

/** Where an export's bytes go: a file in the job's export folder, or memory when there is no OPFS. */
interface Output {
  write(bytes: Uint8Array): void;
  finish(type: string): Promise<Blob>;
  discard(): Promise<void>;
}

async function output(jobId: string | null, key: string): Promise<Output> {
  if (jobId === null) {
    const parts: Uint8Array<ArrayBuffer>[] = [];
    return {
      // Copied: streamed chunks are views of reused buffers.
      write: (b) => parts.push(b.slice() as Uint8Array<ArrayBuffer>),
      finish: async (type) => new Blob(parts, { type }),
      discard: async () => void (parts.length = 0),
    };
  }
  const dir = await (await jobDir(jobId)).getDirectoryHandle(EXPORT_DIR, { create: true });
  const file = await dir.getFileHandle(key, { create: true });
  const h = await file.createSyncAccessHandle();
  h.truncate(0);
  let at = 0;
  let closed = false;
  const close = () => {
    if (!closed) h.close();
    closed = true;
  };
  return {
    write(b) {
      writeAll(h, b, at);
      at += b.length;
    },
    async finish(type) {
      h.flush();
      close();
      // A Blob made of the File is still the file on disk, now with a MIME type.
      return new Blob([await file.getFile()], { type });
    },
    async discard() {
      close();
      await dir.removeEntry(key).catch(() => {});
    },
  };
}

async function produce(jobId: string | null, key: string, type: string, fill: (out: Output) => Promise<void>): Promise<Blob> {
  const cacheKey = `${jobId}/${key}`;
  const cached = jobId === null ? undefined : made.get(cacheKey);
  if (cached) return cached;
  checkLive(jobId);
  const out = await output(jobId, key);
  try {
    await fill(out);
    const blob = await out.finish(type);
    if (jobId !== null) made.set(cacheKey, blob);
    return blob;
  } catch (e) {
    await out.discard();
    throw e;
  }
}

/** Counts bytes out of `total` and reports the fraction at most every 250 ms (each report is a message to the page). */
function throttled(total: number, report?: ProgressCallback): (bytes: number) => void {
  let done = 0;
  let last = 0;
  return (bytes) => {
    done += bytes;
    const now = performance.now();
    if (!report || now - last < 250) return;
    last = now;
    void Promise.resolve(report(Math.min(1, done / Math.max(1, total)))).catch(() => {});
  };
}

async function removeFolder(dir: FileSystemDirectoryHandle, name: string): Promise<boolean> {
  return dir.removeEntry(name, { recursive: true }).then(
    () => true,
    isNotFound,
  );
}

/** Folders this page waits to delete, by job id. */
const waiting = new Set<string>();
const SWEEP_RETRY_MS = [0, 250, 1_000, 4_000];

/**
 * A folder whose job lock another tab holds (or whose files a closing tab has
 * not yet let go of) is deleted once that lock is free: a tab closed while
 * this one is open leaves nothing behind, and a live job is never touched,
 * since its tab holds the lock for as long as the job's folder lives. Files
 * can outlive the lock by a moment while a closed tab's worker shuts down,
 * hence the retries.
 */
function sweepWhenReleased(name: string): void {
  if (waiting.has(name)) return;
  waiting.add(name);
  void navigator.locks
    .request(JOB_LOCK_PREFIX + name, async () => {
      for (const ms of SWEEP_RETRY_MS) {
        await new Promise((r) => setTimeout(r, ms));
        if (await serial('internal', async () => removeFolder(await jobsDir(), name))) return;
      }
    })
    .catch(() => {})
    .finally(() => waiting.delete(name));
}

const api: StorageWorkerApi = {
  available() {
    probed ??= probe();
    return probed;
  },

  sweep() {
    return serial('internal', async () => {
      if (!(await api.available())) return [];
      const locks = await navigator.locks.query();
      const live = new Set([...(locks.held ?? []), ...(locks.pending ?? [])].map((l) => l.name));
      const dir = await jobsDir();
      const names: string[] = [];
      for await (const name of (dir as unknown as { keys(): AsyncIterable<string> }).keys()) names.push(name);
      const swept: string[] = [];
      for (const name of names) {
        if (open.has(name)) continue;
        if (!live.has(JOB_LOCK_PREFIX + name) && (await removeFolder(dir, name))) swept.push(name);
        else sweepWhenReleased(name);
      }
      return swept;
    });
  },

  open(jobId, tracks, sampleRate, expectedBytes) {
    return serial('internal', async () => {
      if (open.has(jobId)) throw new VoxError('internal', `Job ${jobId} is already open.`);
      removed.delete(jobId);
      const { quota, usage } = await navigator.storage.estimate();
      if (quota !== undefined && usage !== undefined && quota - usage < expectedBytes * 1.02 + (1 << 20)) {
        throw new VoxError('export-failed', `The tracks need ${formatBytes(expectedBytes)} and the browser allows ${formatBytes(Math.max(0, quota - usage))} more.`);
      }
      const dir = await (await jobsDir()).getDirectoryHandle(jobId, { create: true });
      const job: OpenJob = { dir, files: [], handles: [], sampleRate, frames: 0 };
      try {
        for (let n = 0; n < tracks; n++) {
          const file = await dir.getFileHandle(trackFileName(n), { create: true });
          const h = await file.createSyncAccessHandle();
          job.files.push(file);
          job.handles.push(h);
          h.truncate(0);
          // A placeholder header (0 frames): a file left by a crash reads as empty, never as garbage.
          writeAll(h, wavHeader16(sampleRate, 0), 0);
        }
      } catch (e) {
        open.set(jobId, job);
        await deleteJob(jobId);
        throw e;
      }
      open.set(jobId, job);
    });
  },

  write(jobId, startFrame, pcm) {
    return serial('separation-failed', async () => {
      const job = open.get(jobId);
      if (!job) throw new VoxError('cancelled');
      if (pcm.length !== job.handles.length) throw new VoxError('internal', `Block has ${pcm.length} tracks, expected ${job.handles.length}.`);
      const at = WAV_HEADER_BYTES + startFrame * 2;
      pcm.forEach((bytes, n) => writeAll(job.handles[n], bytes, at));
      job.frames = Math.max(job.frames, startFrame + (pcm[0]?.length ?? 0) / 2);
    });
  },

  close(jobId, frames) {
    return serial('separation-failed', async () => {
      const job = open.get(jobId);
      if (!job) throw new VoxError('cancelled');
      if (job.frames < frames) throw new VoxError('separation-failed', `Only ${job.frames} of ${frames} samples were written.`);
      for (const h of job.handles) {
        h.truncate(WAV_HEADER_BYTES + frames * 2);
        writeAll(h, wavHeader16(job.sampleRate, frames), 0);
        h.flush();
        h.close();
      }
      open.delete(jobId);
      return Promise.all(job.files.map(async (f) => new File([await f.getFile()], f.name, { type: 'audio/wav' })));
    });
  },

  remove(jobId) {
    // Flag first (not queued): an export streaming for this job stops at its next slice.
    removed.add(jobId);
    return serial('internal', () => deleteJob(jobId));
  },

  exportWav(jobId, key, src, toRate, onProgress) {
    return serial('export-failed', () =>
      produce(jobId, key, 'audio/wav', async (out) => {
        const progress = throttled(wavBytesAtRate(await wavLayoutOf(src), toRate), onProgress);
        for await (const bytes of wavAtRate(src, toRate)) {
          checkLive(jobId);
          out.write(bytes);
          progress(bytes.length);
        }
      }),
    );
  },

  exportZip(jobId, key, entries: ExportEntry[], toRate, onProgress) {
    return serial('export-failed', () =>
      produce(jobId, key, 'application/zip', async (out) => {
        let total = 22;
        for (const e of entries) total += wavBytesAtRate(await wavLayoutOf(e.src), toRate) + 2 * e.name.length + 30 + 16 + 46;
        if (total > ZIP_MAX_BYTES) {
          throw new VoxError('export-failed', `The zip would be ${formatBytes(total)}, over the 4 GiB a zip can hold. Download the tracks one by one, or at 16 kHz.`);
        }
        const progress = throttled(total, onProgress);
        const zip = new ZipStream((bytes) => {
          out.write(bytes);
          progress(bytes.length);
        });
        for (const e of entries) {
          const entry = zip.entry(e.name);
          for await (const bytes of wavAtRate(e.src, toRate)) {
            checkLive(jobId);
            entry.push(bytes);
          }
          entry.end();
        }
        zip.finish();
      }),
    );
  },
};

Comlink.expose(api);

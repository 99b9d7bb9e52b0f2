/// <reference lib="webworker" />
/**
 * The decode worker: owns one ffmpeg.wasm instance and turns a File into
 * MediaFacts (probe) and 16 kHz mono float32 PcmChunks (decode).
 *
 * Why the FFmpeg class lives here and not in the page: FFmpeg runs the core in
 * a worker of its own, and its exec() cannot be interrupted from outside. Kept
 * in this worker, it is supervised by code that stays responsive while ffmpeg
 * works: this worker enforces the time limits (terminating a stuck ffmpeg and
 * loading a fresh one), classifies ffmpeg's log into VoxErrors, and slices the
 * decoded buffer into chunks without touching the main thread. Terminating
 * this worker (DecodeClient.dispose) also ends the nested ffmpeg worker and
 * its pthreads, which is how cancel frees everything at once.
 *
 * Where the core comes from: always this origin. Vite's `?url` imports emit
 * ffmpeg-core.js/.wasm (and core-mt's pthread worker script) as assets of the
 * app; their URLs are passed to FFmpeg.load(), whose default would be a CDN.
 * Nothing is turned into a blob: URL, so the strict CSP (script-src and
 * worker-src 'self', plus 'wasm-unsafe-eval' to compile the wasm) holds.
 */
import * as Comlink from 'comlink';
import { FFFSType, FFmpeg } from '@ffmpeg/ffmpeg';
import type { LogEvent, ProgressEvent } from '@ffmpeg/ffmpeg';
import coreStURL from '@ffmpeg/core?url';
import wasmStURL from '@ffmpeg/core/wasm?url';
import coreMtURL from '@ffmpeg/core-mt?url';
import wasmMtURL from '@ffmpeg/core-mt/wasm?url';
// no-inline: the 2 KB pthread script would otherwise become a data: URL, which worker-src 'self' refuses.
import workerMtURL from '@ffmpeg/core-mt/worker?url&no-inline';
import { encodeForWorkerBoundary, VoxError } from '../../lib/errors';
import { formatDuration, type Limits } from '../../lib/limits';
import type { MediaFacts, PcmChunk } from '../../pipeline/types';
import { classifyFailure, durationFromProgressReport, factsFromProbe, probeFailure, damageInLog } from './interpret';
import {
  CHUNK_SAMPLES,
  DECODE_SAMPLE_RATE,
  decodeTimeoutMs,
  LOAD_TIMEOUT_MS,
  probeTimeoutMs,
  type DecodeClientOptions,
  type DecodeEngineInfo,
  type DecodeWorkerApi,
} from './shared';
import { Chunker } from './chunker';
import { blobReader, findTruncation } from './structure';

const abs = (u: string) => new URL(u, self.location.href).href;

const MOUNT = '/in';
const LOG_LINES = 200;

class Timeout extends Error {}

class Crash extends Error {}

/**
 * ffmpeg's own workers (the FFmpeg class worker, core-mt's pthreads) report
 * uncaught errors only as "error" events on the Worker object FFmpeg keeps
 * private; FFmpeg never settles the pending call. So the Worker constructor is
 * wrapped to hand each new worker to `adoptWorker`, which ties its errors to
 * the FFmpeg instance that made it: errors of the live instance fail the call
 * in flight, late ones from an instance already terminated are ignored.
 */
let adoptWorker: ((w: Worker) => void) | null = null;
const NativeWorker = self.Worker;
self.Worker = class extends NativeWorker {
  constructor(url: string | URL, options?: WorkerOptions) {
    super(url, options);
    adoptWorker?.(this);
  }
};

let failInFlight: ((e: Crash) => void) | null = null;
// Backstop for anything else uncaught in this worker.
self.addEventListener('error', (ev) => {
  ev.preventDefault();
  failInFlight?.(new Crash(ev.message || 'the decoder failed'));
});

/** Settles with `p`, or rejects on timeout (after calling onStop) or when an ffmpeg worker crashes. */
function supervise<T>(p: Promise<T>, ms: number, onStop: () => void): Promise<T> {
  let timer: ReturnType<typeof setTimeout>;
  const guard = new Promise<never>((_, reject) => {
    // Reject first, then stop: stopping rejects `p` too ("called FFmpeg.terminate()"), and the real reason must win the race.
    timer = setTimeout(() => {
      reject(new Timeout(`timed out after ${Math.round(ms / 1000)} s`));
      onStop();
    }, ms);
    failInFlight = (e) => {
      reject(e);
      onStop();
    };
  });
  return Promise.race([p, guard]).finally(() => {
    clearTimeout(timer);
    failInFlight = null;
  });
}

/** FFmpeg rejects with the worker's `e.toString()` (a string), or Error objects. */
const describe = (e: unknown) => (e instanceof VoxError ? (e.detail ?? e.title) : e instanceof Error ? e.message : String(e));

interface Run {
  ret: number;
  log: string[];
}

class Engine {
  /** The loaded instance. */
  private ffmpeg: FFmpeg | null = null;
  /** The instance being loaded or loaded: the only one whose worker errors count. */
  private current: FFmpeg | null = null;
  private loading: Promise<FFmpeg> | null = null;
  private info: DecodeEngineInfo | null = null;
  private choice: DecodeClientOptions['core'] = 'auto';
  private log: string[] = [];
  private retire = false;
  private onProgress: ((e: ProgressEvent) => void) | null = null;
  /** One ffmpeg command at a time: calls queue here. */
  private queue: Promise<unknown> = Promise.resolve();

  configure(options: DecodeClientOptions): void {
    if (options.core && options.core !== this.choice) {
      this.choice = options.core;
      this.kill();
    }
  }

  /** Runs `task` after every earlier task has settled. */
  exclusive<T>(task: () => Promise<T>): Promise<T> {
    const run = () =>
      task().finally(() => {
        // ffmpeg.wasm keeps some of ffmpeg's globals between commands (error
        // counters, for one): after a failed command, start the next from a fresh core.
        if (this.retire) this.kill();
      });
    const next = this.queue.then(run, run);
    this.queue = next.catch(() => {});
    return next;
  }

  async engine(): Promise<DecodeEngineInfo> {
    await this.get();
    return this.info!;
  }

  get(): Promise<FFmpeg> {
    if (this.ffmpeg) return Promise.resolve(this.ffmpeg);
    this.loading ??= this.load().finally(() => {
      this.loading = null;
    });
    return this.loading;
  }

  private async load(): Promise<FFmpeg> {
    const canThread = self.crossOriginIsolated && typeof SharedArrayBuffer === 'function';
    // The dev server rewrites every .js it serves into an ES module, and core-mt
    // starts its pthread script as a classic worker, which then fails to parse.
    // Builds emit the script verbatim, so "auto" uses core-mt there only.
    const devServer = import.meta.env.DEV;
    const wantMt = this.choice === 'mt' || (this.choice === 'auto' && canThread && !devServer);
    let note: string | undefined =
      this.choice !== 'auto' ? undefined : !canThread ? 'page is not cross-origin isolated' : devServer ? 'dev server: core-mt runs in builds only' : undefined;
    if (wantMt) {
      try {
        return await this.loadCore('mt', note);
      } catch (e) {
        if (this.choice === 'mt') throw e;
        note = `multithreaded core failed to load (${describe(e)})`;
      }
    }
    return this.loadCore('st', note);
  }

  private async loadCore(core: 'mt' | 'st', note: string | undefined): Promise<FFmpeg> {
    const t0 = performance.now();
    const ff = new FFmpeg();
    this.current = ff;
    const urls =
      core === 'mt'
        ? { coreURL: abs(coreMtURL), wasmURL: abs(wasmMtURL), workerURL: abs(workerMtURL) }
        : { coreURL: abs(coreStURL), wasmURL: abs(wasmStURL) };
    try {
      adoptWorker = (w) =>
        w.addEventListener('error', (ev) => {
          ev.preventDefault();
          this.workerFailed(ff, ev.message);
        });
      let loading: Promise<unknown>;
      try {
        loading = ff.load(urls); // creates FFmpeg's worker synchronously
      } finally {
        adoptWorker = null;
      }
      // A worker that fails to start never answers FFmpeg.load(): the timeout catches that.
      await supervise(loading, LOAD_TIMEOUT_MS, () => ff.terminate());
    } catch (e) {
      ff.terminate();
      if (this.current === ff) this.current = null;
      throw new VoxError('decode-failed', `The ffmpeg ${core} core could not be loaded: ${describe(e)}`, { cause: e });
    }
    ff.on('log', (e: LogEvent) => {
      if (this.log.length >= LOG_LINES) this.log.shift();
      this.log.push(e.message);
    });
    ff.on('progress', (e: ProgressEvent) => this.onProgress?.(e));
    this.ffmpeg = ff;
    this.info = { core, note, loadMs: Math.round(performance.now() - t0) };
    return ff;
  }

  /** Ends the ffmpeg worker (and its pthreads); the next call loads a fresh one. */
  kill(): void {
    this.current?.terminate();
    this.current = null;
    this.ffmpeg = null;
    this.retire = false;
  }

  /** An uncaught error in one of `ff`'s workers (or their pthreads). */
  private workerFailed(ff: FFmpeg, message: string): void {
    if (ff !== this.current) return; // a terminated instance's last words
    const crash = new Crash(message || 'an ffmpeg worker failed');
    if (failInFlight) failInFlight(crash);
    else this.kill(); // idle: start afresh on the next call
  }

  /**
   * Runs one ffmpeg (or ffprobe) command under a hard time limit. A command
   * that overruns has its ffmpeg worker terminated, so it can never hang the app.
   */
  async run(tool: 'ffmpeg' | 'ffprobe', args: string[], timeoutMs: number, onProgress?: (e: ProgressEvent) => void): Promise<Run> {
    const ff = await this.get();
    this.log = [];
    this.onProgress = onProgress ?? null;
    try {
      const ret = await supervise(tool === 'ffmpeg' ? ff.exec(args) : ff.ffprobe(args), timeoutMs, () => this.kill());
      if (tool === 'ffmpeg' && ret !== 0) this.retire = true;
      return { ret, log: this.log };
    } catch (e) {
      if (e instanceof Timeout) throw new VoxError('decode-failed', `ffmpeg stopped responding (${e.message}).`, { cause: e });
      if (e instanceof Crash) throw new VoxError('decode-failed', `ffmpeg crashed: ${e.message}`, { cause: e });
      // The core aborted (a wasm trap, out of memory…): it is unusable now.
      this.kill();
      const msg = describe(e);
      if (/memory|Cannot enlarge|allocation failed/i.test(msg)) throw new VoxError('out-of-memory', undefined, { cause: e });
      throw new VoxError('decode-failed', `ffmpeg crashed: ${msg}`, { cause: e });
    } finally {
      this.onProgress = null;
    }
  }

  /** Makes `file` readable at the returned path, in place (WORKERFS reads the File lazily; nothing is copied into MEMFS). */
  async mount(file: File): Promise<string> {
    const ff = await this.get();
    await ff.createDir(MOUNT).catch(() => {}); // exists after the first mount
    const ext = /\.([a-z0-9]{1,8})$/i.exec(file.name)?.[1]?.toLowerCase() ?? 'bin';
    const name = `input.${ext}`; // our own name: no odd characters reach ffmpeg's command line
    const ok = await ff.mount(FFFSType.WORKERFS, { blobs: [{ name, data: file }] }, MOUNT);
    if (!ok) throw new VoxError('decode-failed', 'ffmpeg could not mount the file.');
    return `${MOUNT}/${name}`;
  }

  async unmount(): Promise<void> {
    const ff = this.ffmpeg;
    if (ff) await ff.unmount(MOUNT).catch(() => {});
  }

  async readAndDelete(path: string, encoding: 'utf8' | 'binary' = 'binary'): Promise<Uint8Array | string> {
    const ff = await this.get();
    try {
      return await ff.readFile(path, encoding);
    } finally {
      await ff.deleteFile(path).catch(() => {});
    }
  }

  async deleteQuietly(path: string): Promise<void> {
    await this.ffmpeg?.deleteFile(path).catch(() => {});
  }
}

const engine = new Engine();

async function probe(file: File, container: string, limits: Limits): Promise<MediaFacts> {
  const cut = await findTruncation(blobReader(file), file.size, container).catch(() => null);
  if (cut) throw new VoxError('file-truncated', cut);
  return engine.exclusive(async () => {
    const input = await engine.mount(file);
    try {
      const out = '/probe.json';
      // ffprobe's exit code is not reliable in ffmpeg.wasm (ffmpegwasm/ffmpeg.wasm#817: -1 on
      // success), so success is judged by its JSON: "format" on success, "error" (-show_error) if not.
      const run = await engine.run(
        'ffprobe',
        ['-v', 'error', '-print_format', 'json', '-show_error', '-show_format', '-show_streams', input, '-o', out],
        probeTimeoutMs(file.size),
      );
      const json = (await engine.readAndDelete(out, 'utf8').catch(() => '')) as string;
      const failure = probeFailure(json);
      if (failure !== null) throw classifyFailure([...run.log, failure], container, 'file-corrupt');
      const { facts, durationKnown } = factsFromProbe(json, file, container);
      if (!durationKnown) facts.durationSec = await scanDuration(input, file, container);
      if (facts.durationSec > limits.maxDurationSec) {
        throw new VoxError('file-too-long', `“${file.name}” lasts ${formatDuration(facts.durationSec)}; the limit is ${formatDuration(limits.maxDurationSec)}.`);
      }
      return facts;
    } finally {
      await engine.unmount();
    }
  });
}

/**
 * Some files state no duration (live WebM recordings, raw streams): read the
 * audio packets once without decoding them, and take the last timestamp.
 */
async function scanDuration(input: string, file: File, container: string): Promise<number> {
  const report = '/scan.txt';
  const run = await engine.run(
    'ffmpeg',
    ['-v', 'error', '-i', input, '-map', '0:a:0', '-c', 'copy', '-f', 'null', '-progress', report, '-'],
    probeTimeoutMs(file.size),
  );
  if (run.ret !== 0) {
    await engine.deleteQuietly(report);
    throw classifyFailure(run.log, container, 'file-corrupt');
  }
  const sec = durationFromProgressReport((await engine.readAndDelete(report, 'utf8')) as string);
  if (!(sec > 0)) throw new VoxError('file-corrupt', 'Its duration could not be determined.');
  return sec;
}

/**
 * Demuxer options by container. WAV is read in 4 KiB packets by default; each
 * read crosses into JavaScript (WORKERFS reads the File synchronously), so
 * bigger packets make long WAVs decode several times faster.
 */
function inputOptions(container: string): string[] {
  return container === 'wav' ? ['-max_size', String(1 << 20)] : [];
}

async function decode(
  file: File,
  facts: MediaFacts,
  onChunk: (c: PcmChunk) => void | Promise<void>,
  onProgress: (fraction: number) => void,
): Promise<{ totalSamples: number }> {
  // Progress is advisory: a page that fails to take it must not fail the decode.
  const report = (f: number) => void Promise.resolve(onProgress(f)).catch(() => {});
  const chunker = new Chunker();
  const send = async (chunks: PcmChunk[]) => {
    // Each chunk owns its buffer, so it is moved to the page, not copied.
    for (const c of chunks) await onChunk(Comlink.transfer(c, [c.samples.buffer]));
  };

  // One segment, the whole file, for now. Hour-long media will decode a
  // sequence of time ranges here, each pushed through the same chunker.
  const pcm = await decodeSegment(file, facts, (f) => report(f * 0.95));
  const runs = Math.ceil(pcm.length / CHUNK_SAMPLES);
  for (let i = 0; i < runs; i++) {
    await send(chunker.push(pcm.subarray(i * CHUNK_SAMPLES, (i + 1) * CHUNK_SAMPLES)));
    report(0.95 + (0.05 * (i + 1)) / runs);
  }
  await send(chunker.flush());

  const totalSamples = chunker.emitted;
  if (totalSamples === 0) throw new VoxError('file-corrupt', 'Its audio track decoded to no samples.');
  report(1);
  return { totalSamples };
}

/**
 * Runs ffmpeg once over the file's first audio stream and returns it as 16 kHz
 * mono float32. `onProgress` gets 0..1 of the stated duration.
 */
function decodeSegment(file: File, facts: MediaFacts, onProgress: (fraction: number) => void): Promise<Float32Array> {
  return engine.exclusive(async () => {
    const input = await engine.mount(file);
    const out = '/decoded.f32';
    try {
      const total = facts.durationSec > 0 ? facts.durationSec : NaN;
      let lastSent = 0;
      let reported = 0;
      const run = await engine.run(
        'ffmpeg',
        // The first audio stream only (video is demuxed and dropped, never decoded), downmixed and resampled.
        ['-v', 'error', ...inputOptions(facts.container), '-i', input, '-map', '0:a:0', '-vn', '-sn', '-dn', '-ac', '1', '-ar', String(DECODE_SAMPLE_RATE), '-c:a', 'pcm_f32le', '-f', 'f32le', out],
        decodeTimeoutMs(file.size, facts.durationSec),
        ({ time }) => {
          // `time`: output position in µs. A run's first report can carry a stale
          // INT64_MAX left by the previous run; reports are kept monotonic.
          const now = performance.now();
          if (!(total > 0) || !(time >= 0 && time < 1e15) || now - lastSent < 100) return;
          const f = Math.min(1, time / 1e6 / total);
          if (f <= reported) return;
          lastSent = now;
          reported = f;
          onProgress(f);
        },
      );
      if (run.ret !== 0) throw classifyFailure(run.log, facts.container);
      // Free MEMFS at once: the bytes now live only in this worker.
      const bytes = (await engine.readAndDelete(out)) as Uint8Array;
      const damage = damageInLog(run.log, bytes.byteLength / 4 / DECODE_SAMPLE_RATE, facts.durationSec);
      if (damage) throw damage;
      const n = Math.floor(bytes.byteLength / 4);
      return bytes.byteOffset % 4 === 0 ? new Float32Array(bytes.buffer, bytes.byteOffset, n) : new Float32Array(bytes.slice(0, n * 4).buffer);
    } finally {
      await engine.deleteQuietly(out);
      await engine.unmount();
    }
  });
}

/** Every exposed call throws errors that survive comlink (see encodeForWorkerBoundary). */
function guarded<A extends unknown[], R>(fn: (...args: A) => Promise<R>): (...args: A) => Promise<R> {
  return async (...args: A) => {
    try {
      return await fn(...args);
    } catch (e) {
      throw encodeForWorkerBoundary(e, 'decode-failed');
    }
  };
}

const api: DecodeWorkerApi = {
  configure: (options) => engine.configure(options),
  engine: guarded(() => engine.engine()),
  probe: guarded(probe),
  decode: guarded(decode),
};

Comlink.expose(api);

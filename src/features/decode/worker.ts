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
  COMMANDS_PER_CORE,
  DECODE_SAMPLE_RATE,
  LOAD_TIMEOUT_MS,
  probeTimeoutMs,
  resampleTimeoutMs,
  SEGMENT_SECONDS,
  segmentTimeoutMs,
  type DecodeClientOptions,
  type DecodeEngineInfo,
  type DecodeWorkerApi,
} from './shared';
import { Chunker } from './chunker';
import { decodeInSegments, readAhead, type SegmentSource } from './segments';
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
  /** Commands run by the loaded core (see COMMANDS_PER_CORE). */
  private commands = 0;
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
    // "auto" is the single-threaded core: measured faster here for audio (warm
    // 0.93 vs 1.05 s, cold 2.8 vs 7.0 s per minute) and 3x faster to load, since
    // ffmpeg decodes and resamples audio on one thread anyway; core-mt's 1 GiB
    // shared memory would also spend the whole tab's memory budget on long media
    // (docs/performance.md). core-mt stays available on request and is not precached.
    if (this.choice !== 'mt') return this.loadCore('st', undefined);
    if (!(self.crossOriginIsolated && typeof SharedArrayBuffer === 'function')) {
      throw new VoxError('decode-failed', 'The multithreaded ffmpeg core needs a cross-origin isolated page.');
    }
    // The dev server rewrites every .js it serves into an ES module, and core-mt
    // starts its pthread script as a classic worker, which then fails to parse there.
    return this.loadCore('mt', import.meta.env.DEV ? 'dev server: core-mt runs in builds only' : undefined);
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
    this.commands = 0;
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
    // Each command leaks a little of the core's wasm stack: replace the core before it runs out.
    if (++this.commands >= COMMANDS_PER_CORE) this.retire = true;
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

  /** Writes `data` into MEMFS; its buffer is transferred to ffmpeg's worker (unusable here afterwards). */
  async writeFile(path: string, data: Uint8Array): Promise<void> {
    const ff = await this.get();
    await ff.writeFile(path, data);
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

/** Seconds as ffmpeg reads them (no float noise such as 64.09700000000001). */
const seconds = (s: number) => String(Math.round(s * 1e6) / 1e6);

const floats = (bytes: Uint8Array): Float32Array => {
  const n = bytes.byteLength >> 2;
  return bytes.byteOffset % 4 === 0 ? new Float32Array(bytes.buffer, bytes.byteOffset, n) : new Float32Array(bytes.slice(0, n * 4).buffer);
};

/**
 * ffmpeg behind the segmenter's interface (segments.ts). Each call is one
 * command, alone on the engine (a probe of another file can run between two
 * segments), reading the File in place (WORKERFS, mounted for that command
 * only). Outputs go to MEMFS and are read back and deleted at once.
 * - run: the first audio stream from `startSec`, downmixed to mono: resampled
 *   to 16 kHz exactly as a whole-file command does it (same auto-inserted
 *   resampler), plus the first `head` and the samples from `tailFrom` on at
 *   the native rate, cut by sample count (atrim), not by timestamp.
 * - native: the same stream whole at the native rate; resample: a native
 *   window written to MEMFS and resampled to 16 kHz. Only for runs that land
 *   off the resampler's grid (WebM/Matroska, sometimes).
 * `errors` collects the error lines every command logged, for the damage check at the end.
 */
function segmentSource(file: File, facts: MediaFacts, rate: number, errors: string[]): SegmentSource {
  const note = (log: string[]) => {
    // A container that says it is cut off fails the decode now; decoding errors are judged at the end.
    const cut = damageInLog(log, NaN, NaN);
    if (cut) throw cut;
    for (const line of log) if (errors.length < LOG_LINES && line !== 'Aborted()') errors.push(line);
  };
  const mono = (r: number, path: string) => ['-ac', '1', '-ar', String(r), '-c:a', 'pcm_f32le', '-f', 'f32le', path];
  const input = (startSec: number, durationSec: number, path: string) => [
    ...['-v', 'error', ...inputOptions(facts.container)],
    ...(startSec > 0 ? ['-ss', seconds(startSec)] : []),
    ...['-t', seconds(durationSec), '-i', path],
  ];
  /** Runs one ffmpeg command over the mounted file; returns the outputs, read and deleted. */
  const decodeCommand = (args: (path: string) => string[], outputs: string[], durationSec: number) =>
    engine.exclusive(async () => {
      const path = await engine.mount(file);
      try {
        const run = await engine.run('ffmpeg', args(path), segmentTimeoutMs(file.size, durationSec));
        if (run.ret !== 0) throw classifyFailure(run.log, facts.container);
        note(run.log);
        const read: Float32Array[] = [];
        for (const out of outputs) read.push(floats((await engine.readAndDelete(out)) as Uint8Array));
        return read;
      } finally {
        for (const out of outputs) await engine.deleteQuietly(out);
        await engine.unmount();
      }
    });
  return {
    run: async (startSec, durationSec, head, tailFrom) => {
      // The first audio stream only (video is demuxed and dropped, never decoded), split three ways.
      const graph = head > 0 ? `[0:a:0]asplit=3[o][h][t];[h]atrim=end_sample=${head}[hh];[t]atrim=start_sample=${tailFrom}[tt]` : `[0:a:0]asplit=2[o][t];[t]atrim=start_sample=${tailFrom}[tt]`;
      const outs = ['/run.16k.f32', '/run.tail.f32', ...(head > 0 ? ['/run.head.f32'] : [])];
      const [out, tail, h = new Float32Array(0)] = await decodeCommand(
        (path) => [
          ...input(startSec, durationSec, path),
          ...['-filter_complex', graph],
          ...['-map', '[o]', ...mono(DECODE_SAMPLE_RATE, outs[0])],
          ...['-map', '[tt]', ...mono(rate, outs[1])],
          ...(head > 0 ? ['-map', '[hh]', ...mono(rate, outs[2])] : []),
        ],
        outs,
        durationSec,
      );
      const length = tail.length ? tailFrom + tail.length : h.length < head ? h.length : null;
      return { out, head: h, tail, length };
    },
    native: async (startSec, durationSec) => {
      const out = '/run.native.f32';
      const [x] = await decodeCommand((path) => [...input(startSec, durationSec, path), '-map', '0:a:0', '-vn', '-sn', '-dn', ...mono(rate, out)], [out], durationSec);
      return x;
    },
    resample: (native) =>
      engine.exclusive(async () => {
        const inp = '/window.f32';
        const out = '/window.16k.f32';
        try {
          await engine.writeFile(inp, new Uint8Array(native.buffer, native.byteOffset, native.byteLength));
          const run = await engine.run(
            'ffmpeg',
            ['-v', 'error', '-f', 'f32le', '-ar', String(rate), '-ac', '1', '-i', inp, ...mono(DECODE_SAMPLE_RATE, out)],
            resampleTimeoutMs(native.length / rate),
          );
          if (run.ret !== 0) throw classifyFailure(run.log, 'f32le');
          return floats((await engine.readAndDelete(out)) as Uint8Array);
        } finally {
          await engine.deleteQuietly(inp);
          await engine.deleteQuietly(out);
        }
      }),
  };
}

/**
 * Decodes the file in segments of SEGMENT_SECONDS (see segments.ts), so only
 * about one segment of audio is in memory at a time, whatever the length of
 * the file. The next segment decodes while this one's chunks are delivered,
 * and no further: `onChunk` resolving is the back-pressure.
 */
async function decode(
  file: File,
  facts: MediaFacts,
  onChunk: (c: PcmChunk) => void | Promise<void>,
  onProgress: (fraction: number) => void,
): Promise<{ totalSamples: number }> {
  // Progress is advisory: a page that fails to take it must not fail the decode.
  const report = (f: number) => void Promise.resolve(onProgress(f)).catch(() => {});
  const expected = facts.durationSec > 0 ? facts.durationSec * DECODE_SAMPLE_RATE : NaN;
  const chunker = new Chunker();
  const send = async (chunks: PcmChunk[]) => {
    for (const c of chunks) {
      // Each chunk owns its buffer, so it is moved to the page, not copied.
      await onChunk(Comlink.transfer(c, [c.samples.buffer]));
      if (expected > 0) report(Math.min(0.99, chunker.emitted / expected));
    }
  };

  // Decoded at the stream's own rate first (resampled per window); 48 kHz if ffprobe did not say.
  const rate = Number.isInteger(facts.sampleRate) && facts.sampleRate > 0 ? facts.sampleRate : 48_000;
  const errors: string[] = [];
  const segments = decodeInSegments(segmentSource(file, facts, rate, errors), { rate, outRate: DECODE_SAMPLE_RATE, segmentSec: SEGMENT_SECONDS });
  for await (const segment of readAhead(segments)) await send(chunker.push(segment.samples));
  await send(chunker.flush());

  const totalSamples = chunker.emitted;
  const damage = damageInLog(errors, totalSamples / DECODE_SAMPLE_RATE, facts.durationSec);
  if (damage) throw damage;
  if (totalSamples === 0) throw new VoxError('file-corrupt', 'Its audio track decoded to no samples.');
  report(1);
  return { totalSamples };
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

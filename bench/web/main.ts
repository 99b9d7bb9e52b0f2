/**
 * The benchmark page: the app's own modules, driven from bench/run.mjs through
 * window.voxBench. Nothing here re-implements the app: separation goes through
 * createSeparateClient() (its worker verifies the model and runs ORT), decoding
 * through createDecodeClient() (ffmpeg.wasm in the decode worker), hashing through
 * the app's sha256Hex(). Input files arrive by Playwright's setInputFiles on
 * #input-a / #input-b, i.e. as disk-backed Files, as a dropped file would.
 */
import { createDecodeClient } from '../../src/features/decode/client';
import { CHUNK_SAMPLES } from '../../src/features/decode/shared';
import { checkBeforeDecode } from '../../src/features/decode/sniff';
import { sha256Hex } from '../../src/features/model/verify';
import type { BackendSetting } from '../../src/features/model/backend';
import { ChunkedSeparator } from '../../src/features/separate/chunking';
import { createSeparateClient } from '../../src/features/separate/client';
import { toVoxError } from '../../src/lib/errors';
import { DEFAULT_LIMITS } from '../../src/lib/limits';
import type { SeparatedBlock } from '../../src/pipeline/types';
import { ffmpegProfile } from './ffmpeg-profile';
import { rawOrt } from './raw-ort';

interface MemoryBreakdownEntry {
  bytes: number;
  attribution: { url?: string; scope?: string }[];
  types: string[];
}
interface MemoryMeasurement {
  bytes: number;
  breakdown: MemoryBreakdownEntry[];
}
type MeasureMemory = () => Promise<MemoryMeasurement>;

export interface MemoryPeak {
  /** performance.measureUserAgentSpecificMemory(): page + its workers (JS heaps, ArrayBuffers, wasm memories). */
  peakBytes: number | null;
  /**
   * The same with a shared memory counted once: Chromium attributes a shared
   * WebAssembly.Memory to every worker that holds it (ffmpeg core-mt: 32 pthreads
   * × its 1 GiB memory), so entries over 64 MiB of (almost) the same size are
   * counted once. A heuristic: PSS from /proc (bench/lib/proc.mjs) is the figure to trust.
   */
  peakDedupedBytes: number | null;
  /** At the peak: bytes by attribution scope (Window, DedicatedWorkerGlobalScope…). */
  peakByScope: Record<string, number>;
  samples: number;
  error?: string;
}

const log = (s: string) => {
  const el = document.getElementById('log');
  if (el) el.textContent += `${s}\n`;
};

function fileOf(id: string): File {
  const input = document.getElementById(id) as HTMLInputElement | null;
  const f = input?.files?.[0];
  if (!f) throw new Error(`No file in #${id}`);
  return f;
}

/** See MemoryPeak.peakDedupedBytes. */
export function dedupedBytes(m: MemoryMeasurement): number {
  // Entries over 64 MiB within 1 % of each other are taken to be one shared memory seen from several workers.
  const BIG = 64 * 1024 * 1024;
  let total = 0;
  const big: number[] = [];
  for (const e of m.breakdown) {
    if (e.bytes >= BIG) big.push(e.bytes);
    else total += e.bytes;
  }
  big.sort((a, b) => b - a);
  let cluster = -1;
  for (const b of big) {
    if (cluster < 0 || b < cluster * 0.99) {
      cluster = b;
      total += b;
    }
  }
  return total;
}

/** Polls measureUserAgentSpecificMemory (cross-origin isolated pages only) and keeps the largest. */
function memorySampler(intervalMs: number) {
  const measure = (performance as unknown as { measureUserAgentSpecificMemory?: MeasureMemory }).measureUserAgentSpecificMemory;
  const peak: MemoryPeak = { peakBytes: null, peakDedupedBytes: null, peakByScope: {}, samples: 0 };
  if (!measure || !self.crossOriginIsolated) {
    peak.error = 'measureUserAgentSpecificMemory unavailable (needs a cross-origin isolated page)';
    return { stop: async () => peak };
  }
  let stopped = false;
  let inFlight: Promise<void> | null = null;
  const take = () => {
    if (inFlight) return inFlight;
    inFlight = measure
      .call(performance)
      .then((m) => {
        peak.samples++;
        const deduped = dedupedBytes(m);
        if (peak.peakDedupedBytes === null || deduped > peak.peakDedupedBytes) peak.peakDedupedBytes = deduped;
        if (peak.peakBytes === null || m.bytes > peak.peakBytes) {
          peak.peakBytes = m.bytes;
          const byScope: Record<string, number> = {};
          for (const e of m.breakdown) {
            const scope = e.attribution.map((a) => a.scope ?? 'unattributed').join('+') || 'shared';
            byScope[scope] = (byScope[scope] ?? 0) + e.bytes;
          }
          peak.peakByScope = byScope;
        }
      })
      .catch((e: unknown) => {
        peak.error = String(e);
      })
      .finally(() => {
        inFlight = null;
      });
    return inFlight;
  };
  void take();
  const timer = setInterval(() => {
    if (!stopped) void take();
  }, intervalMs);
  return {
    async stop(): Promise<MemoryPeak> {
      stopped = true;
      clearInterval(timer);
      // A measurement waits for every worker to answer; a wasm pthread blocked in Atomics.wait
      // (ORT's idle thread pool) can hold it for minutes. Never let that hold the benchmark.
      const settle = (p: Promise<void> | null) => Promise.race([p ?? Promise.resolve(), new Promise<void>((r) => setTimeout(r, 5000))]);
      await settle(inFlight);
      if (!inFlight) await settle(take());
      if (inFlight) peak.error = 'a measurement was still pending when the run ended (threads blocked in Atomics.wait do not answer)';
      return peak;
    },
  };
}

function describeError(e: unknown): string {
  const v = toVoxError(e);
  return `${v.code}: ${v.detail ?? v.title}`;
}

/** SNR (dB) of `est` against `ref`. */
function snrDb(ref: Float32Array, est: Float32Array, n: number): number {
  let s = 0;
  let e = 0;
  for (let i = 0; i < n; i++) {
    s += ref[i] * ref[i];
    e += (ref[i] - est[i]) ** 2;
  }
  return e === 0 ? Infinity : 10 * Math.log10(s / e);
}

export interface SeparateOptions {
  backend: BackendSetting;
  threads?: number;
  /** Only the first this many seconds of #input-a (WebGPU on a software adapter is slow). */
  maxSeconds?: number;
  memIntervalMs?: number;
}

async function separate(opts: SeparateOptions) {
  const pcmFile = fileOf('input-a');
  let pcm = new Float32Array(await pcmFile.arrayBuffer());
  if (opts.maxSeconds) pcm = pcm.subarray(0, Math.min(pcm.length, Math.round(opts.maxSeconds * 16000)));
  const refFile = (document.getElementById('input-b') as HTMLInputElement).files?.[0];
  const ref = refFile ? new Float32Array(await refFile.arrayBuffer()) : null;

  const client = createSeparateClient();
  const l0 = performance.now();
  let info;
  try {
    info = await client.load({ backend: opts.backend, threads: opts.threads });
  } catch (e) {
    client.dispose();
    return { ok: false as const, stage: 'load', error: describeError(e), loadMs: performance.now() - l0 };
  }
  const loadMs = performance.now() - l0;
  log(`loaded ${info.backend} ${info.threads} threads in ${loadMs.toFixed(0)} ms`);

  const S = info.sources.length;
  const refSamples = ref ? Math.floor(ref.length / S) : 0;
  const got = refSamples ? info.sources.map(() => new Float32Array(refSamples)) : [];
  let done = 0;
  const take = (blocks: SeparatedBlock[]) => {
    for (const b of blocks) {
      if (b.start !== done) throw new Error(`block at ${b.start}, expected ${done}`);
      if (refSamples && b.start < refSamples) b.sources.forEach((s, i) => got[i].set(s.subarray(0, Math.min(s.length, refSamples - b.start)), b.start));
      done += b.sources[0].length;
    }
  };

  const mem = memorySampler(opts.memIntervalMs ?? 2000);
  const s0 = performance.now();
  let firstBlockMs: number | null = null;
  try {
    for (let at = 0; at < pcm.length; at += CHUNK_SAMPLES) {
      // A chunk that owns its buffer, as the decoder's are: the client transfers it.
      const blocks = await client.push({ start: at, samples: pcm.slice(at, at + CHUNK_SAMPLES) });
      if (firstBlockMs === null && blocks.length) firstBlockMs = performance.now() - s0;
      take(blocks);
    }
    take(await client.finish());
  } catch (e) {
    const memory = await mem.stop();
    client.dispose();
    return { ok: false as const, stage: 'separate', error: describeError(e), loadMs, memory, info };
  }
  const separateMs = performance.now() - s0;
  const memory = await mem.stop();
  client.dispose();

  // Agreement with the native (onnxruntime-node) output over the reference span: speakers may come in either order.
  let agreementDb: number[] | null = null;
  if (refSamples) {
    const n = Math.min(refSamples, done);
    const refOf = (i: number) => ref!.subarray(i * refSamples, (i + 1) * refSamples);
    const speakers = info.sources.filter((s) => s.kind === 'speaker').map((s) => s.index);
    const direct = info.sources.map((_, i) => snrDb(refOf(i), got[i], n));
    agreementDb = direct;
    if (speakers.length === 2) {
      const swapped = direct.slice();
      swapped[speakers[0]] = snrDb(refOf(speakers[0]), got[speakers[1]], n);
      swapped[speakers[1]] = snrDb(refOf(speakers[1]), got[speakers[0]], n);
      const sum = (a: number[]) => speakers.reduce((t, i) => t + Math.min(a[i], 200), 0);
      if (sum(swapped) > sum(direct)) agreementDb = swapped;
    }
  }
  const seconds = pcm.length / 16000;
  return {
    ok: true as const,
    backend: info.backend,
    threads: info.threads,
    adapter: info.adapter ?? null,
    seconds,
    loadMs,
    verifyMs: info.verifyMs,
    sessionMs: info.sessionMs,
    separateMs,
    firstBlockMs,
    rtf: separateMs / 1000 / seconds,
    samplesOut: done,
    agreementDb,
    memory,
  };
}

async function decode(opts: { memIntervalMs?: number } = {}) {
  const file = fileOf('input-a');
  const client = createDecodeClient();
  try {
    const e0 = performance.now();
    const engine = await client.engine();
    const engineMs = performance.now() - e0;
    const container = await checkBeforeDecode(file, DEFAULT_LIMITS);
    const p0 = performance.now();
    const facts = await client.probe(file, container, DEFAULT_LIMITS);
    const probeMs = performance.now() - p0;
    let chunks = 0;
    let samples = 0;
    let firstChunkMs: number | null = null;
    const mem = memorySampler(opts.memIntervalMs ?? 2000);
    const d0 = performance.now();
    const { totalSamples } = await client.decode(
      file,
      facts,
      (c) => {
        if (firstChunkMs === null) firstChunkMs = performance.now() - d0;
        chunks++;
        samples += c.samples.length;
      },
      () => {},
    );
    const decodeMs = performance.now() - d0;
    const memory = await mem.stop();
    return {
      ok: true as const,
      core: engine.core,
      coreNote: engine.note ?? null,
      engineMs,
      container,
      durationSec: facts.durationSec,
      bytes: file.size,
      probeMs,
      decodeMs,
      firstChunkMs,
      chunks,
      totalSamples,
      samplesDelivered: samples,
      rtf: decodeMs / 1000 / facts.durationSec,
      memory,
    };
  } catch (e) {
    return { ok: false as const, error: describeError(e) };
  } finally {
    client.dispose();
  }
}

/** SubtleCrypto SHA-256 of the shipped model, with the app's sha256Hex, on this (main) thread. */
async function sha256(repeats = 7) {
  const base = new URL(`${import.meta.env.BASE_URL}models/`, location.href).href;
  const manifest = (await (await fetch(`${base}manifest.json`)).json()) as { artifacts: { file: string; sha256: string; bytes: number }[] };
  const art = manifest.artifacts[0];
  const f0 = performance.now();
  const bytes = new Uint8Array(await (await fetch(`${base}${art.file}`)).arrayBuffer());
  const fetchMs = performance.now() - f0;
  const times: number[] = [];
  let hex = '';
  for (let i = 0; i < repeats; i++) {
    const t0 = performance.now();
    hex = await sha256Hex(bytes);
    times.push(performance.now() - t0);
  }
  const sorted = times.slice().sort((a, b) => a - b);
  return { bytes: bytes.byteLength, fetchMs, firstMs: times[0], medianMs: sorted[Math.floor(sorted.length / 2)], minMs: sorted[0], matches: hex === art.sha256, times };
}

/** The app's ChunkedSeparator around a model that costs nothing: the JS cost of chunking, cross-fades and speaker alignment. */
async function chunkingOverhead(seconds = 60) {
  const rate = 16000;
  const n = seconds * rate;
  const x = new Float32Array(n);
  for (let i = 0; i < n; i++) x[i] = Math.sin(i * 0.01) * 0.3 + Math.sin(i * 0.037) * 0.2;
  const sep = new ChunkedSeparator(async (w) => [w.slice(), w.slice(), w.slice()], {
    chunkSeconds: 8,
    overlapSeconds: 1,
    sampleRate: rate,
    kinds: ['speaker', 'speaker', 'background'],
    minWindowSamples: 1600,
  });
  const t0 = performance.now();
  for (let at = 0; at < n; at += CHUNK_SAMPLES) await sep.push(x.slice(at, at + CHUNK_SAMPLES));
  await sep.finish();
  return { seconds, ms: performance.now() - t0 };
}

function environment() {
  return {
    userAgent: navigator.userAgent,
    hardwareConcurrency: navigator.hardwareConcurrency,
    crossOriginIsolated: self.crossOriginIsolated,
    webgpu: 'gpu' in navigator,
  };
}

async function adapterInfo() {
  const gpu = (navigator as unknown as { gpu?: { requestAdapter(): Promise<{ info?: Record<string, unknown> } | null> } }).gpu;
  if (!gpu) return { present: false };
  const a = await gpu.requestAdapter().catch(() => null);
  if (!a) return { present: true, adapter: null };
  const i = a.info ?? {};
  return { present: true, adapter: { vendor: i.vendor, architecture: i.architecture, device: i.device, description: i.description, isFallbackAdapter: i.isFallbackAdapter } };
}

const api = {
  separate,
  decode,
  sha256,
  chunkingOverhead,
  environment,
  adapterInfo,
  ffmpegProfile: (core: 'mt' | 'st' = 'mt') => ffmpegProfile(fileOf('input-a'), core),
  rawOrt: async (windows = 8, sessionConfig?: Record<string, string>) => rawOrt(new Float32Array(await fileOf('input-a').arrayBuffer()), { windowSeconds: 8, windows, sessionConfig }),
};
(window as unknown as { voxBench: typeof api }).voxBench = api;
document.body.dataset.ready = 'true';
log('ready');

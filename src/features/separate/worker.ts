/**
 * The separate worker: verifies the model, creates the ORT session on the
 * chosen backend, and runs the chunked separator on the samples it is sent.
 *
 * onnxruntime-web is imported dynamically, one build per backend, so only the
 * needed one loads: 'onnxruntime-web/wasm' (ort-wasm-simd-threaded.wasm) for
 * WASM, 'onnxruntime-web' (JSEP build: WebGPU + WASM, ort-wasm-simd-threaded.jsep.wasm)
 * for WebGPU. Both are the *.bundle.min.mjs builds that embed the Emscripten
 * glue, so the only file ORT fetches is its .wasm, whose same-origin URL
 * (hashed and precached in builds) is set in env.wasm.wasmPaths. No CDN.
 *
 * Every session runs a short warm-up before load() resolves. On WebGPU every
 * run sits in error scopes (webgpuRunGuard): ORT does not report invalid GPU
 * pipelines, it returns wrong numbers, so a failing device must be caught
 * here. Forced WebGPU then fails with 'backend-unavailable'; automatic choice
 * falls back to WASM.
 */
import * as Comlink from 'comlink';
import wasmUrl from 'onnxruntime-web/ort-wasm-simd-threaded.wasm?url';
import jsepWasmUrl from 'onnxruntime-web/ort-wasm-simd-threaded.jsep.wasm?url';
import { encodeForWorkerBoundary, toVoxError, VoxError, type ErrorCode } from '../../lib/errors';
import type { PcmChunk, SeparatedBlock } from '../../pipeline/types';
import { chooseBackend, webgpuRunGuard, type Backend, type BackendChoice, type GpuDeviceLike } from '../model/backend';
import { VoiceAssociator } from '../associate/associator';
import { modelArtifact, voiceprintArtifact } from '../model/manifest';
import {
  createVerifiedSession,
  createVoiceprintSession,
  sessionOptionsFor,
  type ModelRunner,
  type OrtLike,
  type RunGuard,
  type VoiceprintRunner,
} from '../model/session';
import { loadVerifiedManifest, type VerifiedModel } from '../model/verify';
import { ChunkedSeparator } from './chunking';
import type { LoadOptions, ModelInfo, SeparateWorkerApi } from './shared';

type Ort = typeof import('onnxruntime-web');

/** Windows shorter than this (only a whole input under 0.1 s) are zero-padded for the model. */
const MIN_WINDOW_SAMPLES = 1600;
/** 0.25 s: enough for every kernel to run once. */
const WARM_UP_SAMPLES = 4000;

let runner: ModelRunner | null = null;
let separator: ChunkedSeparator | null = null;
/** The associate stage's voiceprint session (null: off, or the manifest ships none) and the current input's associator. */
let voiceprint: VoiceprintRunner | null = null;
let associator: VoiceAssociator | null = null;
let loaded: { backend: Backend; threads: number } | null = null;
/** The options and answer of the load that made `runner`: the same load again only starts a fresh input. */
let lastLoad: { key: string; info: ModelInfo } | null = null;

async function importOrt(backend: Backend, threads: number, adapter: unknown): Promise<Ort> {
  const ort: Ort = backend === 'webgpu' ? await import('onnxruntime-web') : await import('onnxruntime-web/wasm');
  if (loaded && (loaded.backend !== backend || loaded.threads !== threads)) {
    // ORT's wasm is initialised once per worker with its thread count; the client starts a new worker instead.
    throw new VoxError('internal', `This worker already runs ${loaded.backend} with ${loaded.threads} threads.`);
  }
  ort.env.wasm.wasmPaths = { wasm: new URL(backend === 'webgpu' ? jsepWasmUrl : wasmUrl, self.location.href).href };
  ort.env.wasm.numThreads = threads;
  ort.env.wasm.proxy = false; // we are the worker already
  ort.env.logLevel = 'error';
  if (backend === 'webgpu' && adapter) {
    // Use exactly the adapter chooseBackend() checked.
    (ort.env.webgpu as { adapter?: unknown }).adapter = adapter;
  }
  return ort;
}

function newSeparator(r: ModelRunner): ChunkedSeparator {
  const m = r.manifest;
  return new ChunkedSeparator((w) => r.run(w), {
    ...m.chunking,
    sampleRate: m.sampleRate,
    kinds: m.sources.map((s) => s.kind),
    minWindowSamples: MIN_WINDOW_SAMPLES,
  });
}

function newAssociator(r: ModelRunner): VoiceAssociator | null {
  if (!voiceprint) return null;
  const vp = voiceprint;
  const m = r.manifest;
  return new VoiceAssociator({ kinds: m.sources.map((s) => s.kind), embed: (x) => vp.embed(x), sampleRate: m.sampleRate });
}

/** A fresh input: the separator and the associator start over. */
function startInput(r: ModelRunner): void {
  separator = newSeparator(r);
  associator = newAssociator(r);
}

/** Separated blocks through the associate stage (when on). */
async function associated(blocks: SeparatedBlock[]): Promise<SeparatedBlock[]> {
  if (!associator) return blocks;
  const out: SeparatedBlock[] = [];
  for (const b of blocks) out.push(...(await associator.push(b)));
  return out;
}

function transferable(blocks: SeparatedBlock[]): SeparatedBlock[] {
  const buffers = new Set<ArrayBuffer>();
  for (const b of blocks) for (const s of b.sources) buffers.add(s.buffer as ArrayBuffer);
  return Comlink.transfer(blocks, [...buffers]);
}

/** Calls run one at a time, in arrival order (a push sent while load() is still running waits for it). */
let queue: Promise<unknown> = Promise.resolve();

function guard<T>(fallback: ErrorCode, f: () => Promise<T>): Promise<T> {
  const run = async () => {
    try {
      return await f();
    } catch (e) {
      console.error('[separate worker]', e);
      throw encodeForWorkerBoundary(e, fallback);
    }
  };
  const p = queue.then(run, run);
  queue = p.catch(() => undefined);
  return p;
}

/** A short deterministic signal: the first run compiles the kernels and shows whether the backend can run the model. */
function warmUpInput(): Float32Array {
  const x = new Float32Array(WARM_UP_SAMPLES);
  for (let i = 0; i < x.length; i++) x[i] = 0.1 * Math.sin(i * 0.05) + 0.05 * Math.sin(i * 0.31);
  return x;
}

interface Ready {
  runner: ModelRunner;
  warmUpMs: number;
  backend: Backend;
  adapter?: string;
  reason: string;
}

async function createRunner(ort: Ort, verified: VerifiedModel, choice: BackendChoice, setting: LoadOptions['backend']): Promise<Ready> {
  const create = (backend: Backend, guard?: RunGuard) =>
    createVerifiedSession(ort as unknown as OrtLike, verified, sessionOptionsFor(backend), guard);
  if (choice.backend === 'wasm') {
    const r = await create('wasm');
    const w0 = performance.now();
    await r.run(warmUpInput());
    return { runner: r, warmUpMs: performance.now() - w0, backend: 'wasm', reason: choice.reason };
  }
  // WebGPU: every run inside error scopes, and a warm-up run to prove the device can run this model.
  let guard: RunGuard | undefined;
  let r: ModelRunner | undefined;
  try {
    r = await create('webgpu', (run) => (guard ? guard(run) : run()));
    guard = webgpuRunGuard((await ort.env.webgpu.device) as unknown as GpuDeviceLike);
    const w0 = performance.now();
    await r.run(warmUpInput());
    return { runner: r, warmUpMs: performance.now() - w0, backend: 'webgpu', adapter: choice.adapterDescription, reason: choice.reason };
  } catch (e) {
    await r?.release().catch(() => {});
    if (setting === 'webgpu') throw e;
    // Automatic choice: WASM (the JSEP build includes it) rather than no result.
    const why = toVoxError(e).detail ?? String(e);
    console.warn(`[separate worker] WebGPU failed its warm-up, using WebAssembly: ${why}`);
    const w = await create('wasm');
    const w0 = performance.now();
    await w.run(warmUpInput());
    return { runner: w, warmUpMs: performance.now() - w0, backend: 'wasm', reason: `WebGPU failed its warm-up (${why}); using WebAssembly` };
  }
}

const api: SeparateWorkerApi = {
  load: (opts: LoadOptions & { modelBaseUrl: string }) =>
    guard('internal', async (): Promise<ModelInfo> => {
      const associate = opts.associate ?? true;
      const key = `${opts.backend}/${opts.threads ?? 'auto'}/${opts.modelBaseUrl}/${associate}`;
      if (runner && lastLoad?.key === key) {
        // The app starts loading when a file is opened, so Separate usually finds the session ready.
        startInput(runner);
        return lastLoad.info;
      }
      lastLoad = null;
      const choice = await chooseBackend(opts.backend, undefined, { threads: opts.threads });
      const verified = await loadVerifiedManifest(opts.modelBaseUrl, __MODEL_MANIFEST_SHA256__);
      const t0 = performance.now();
      const ort = await importOrt(choice.backend, choice.threads, choice.adapter);
      await runner?.release().catch(() => {});
      await voiceprint?.release().catch(() => {});
      runner = null;
      voiceprint = null;
      separator = null;
      associator = null;
      const t1 = performance.now();
      const ready = await createRunner(ort, verified, choice, opts.backend);
      runner = ready.runner;
      loaded = { backend: choice.backend, threads: choice.threads };
      // The voiceprint is small and runs once per segment of speech: WebAssembly on either backend (both builds have it).
      voiceprint = associate ? ((await createVoiceprintSession(ort as unknown as OrtLike, verified, sessionOptionsFor('wasm'))) ?? null) : null;
      const sessionMs = performance.now() - t0;
      startInput(runner);
      const m = verified.manifest;
      const info: ModelInfo = {
        id: m.id,
        name: m.name,
        version: m.version,
        sha256: modelArtifact(m).sha256,
        manifestSha256: verified.manifestSha256,
        bytes: verified.bytes,
        backend: ready.backend,
        threads: choice.threads,
        adapter: ready.adapter,
        sources: m.sources,
        chunking: m.chunking,
        verifyMs: verified.verifyMs,
        sessionMs,
        voiceprintSha256: voiceprint ? voiceprintArtifact(m)?.sha256 : undefined,
      };
      lastLoad = { key, info };
      console.info(
        `[separate worker] ${m.id} ${m.version} on ${ready.backend} (${choice.threads} threads): ${ready.reason}. ` +
          `verify ${verified.verifyMs.toFixed(0)} ms, ORT import ${(t1 - t0).toFixed(0)} ms, ` +
          `wasm init + session ${(performance.now() - t1 - ready.warmUpMs).toFixed(0)} ms, warm-up run ${ready.warmUpMs.toFixed(0)} ms`,
      );
      return info;
    }),

  push: (chunk: PcmChunk) =>
    guard('separation-failed', async () => {
      if (!separator) throw new VoxError('internal', 'push() before load().');
      if (chunk.start !== separator.samplesIn) {
        throw new VoxError('internal', `Samples out of order: got a chunk at ${chunk.start}, expected ${separator.samplesIn}.`);
      }
      return transferable(await associated(await separator.push(chunk.samples)));
    }),

  finish: () =>
    guard('separation-failed', async () => {
      if (!separator || !runner) throw new VoxError('internal', 'finish() before load().');
      const blocks = await associated(await separator.finish());
      if (associator) blocks.push(...(await associator.finish()));
      startInput(runner); // ready for the next input
      return transferable(blocks);
    }),
};

Comlink.expose(api);

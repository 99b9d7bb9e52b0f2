/**
 * Which execution provider runs the model. Runs where the session is created
 * (the separate worker), so the adapter it checks is the one ORT will use.
 *
 * - 'auto': WebGPU only when navigator.gpu gives a real (non-fallback)
 *   adapter. Software fallback adapters (SwiftShader in headless Chromium) are
 *   10–100× slower than WASM, so auto picks WASM there.
 * - 'webgpu': WebGPU on any adapter, fallback included; none → 'backend-unavailable'.
 * - 'wasm': WebAssembly (SIMD), multithreaded when the page is cross-origin isolated.
 */
import { VoxError } from '../../lib/errors';

export type BackendSetting = 'auto' | 'wasm' | 'webgpu';
export type Backend = 'webgpu' | 'wasm';

/** The parts of WebGPU this module reads (structural, so tests can fake them). */
export interface AdapterInfoLike {
  vendor?: string;
  architecture?: string;
  device?: string;
  description?: string;
  isFallbackAdapter?: boolean;
}
export interface AdapterLike {
  info?: AdapterInfoLike;
  /** Older Chromium exposed this on the adapter instead of its info. */
  isFallbackAdapter?: boolean;
}
export interface GpuLike {
  requestAdapter(options?: { powerPreference?: 'high-performance' | 'low-power' }): Promise<AdapterLike | null>;
}

export interface BackendEnv {
  gpu?: GpuLike;
  crossOriginIsolated: boolean;
  hardwareConcurrency: number;
}

export interface BackendChoice {
  backend: Backend;
  /** WASM threads (also used by the CPU ops of a WebGPU session). */
  threads: number;
  /** Human-readable adapter, e.g. "google swiftshader (fallback)". WebGPU only. */
  adapterDescription?: string;
  /** The adapter to hand to ORT (env.webgpu.adapter) so it uses the one checked here. */
  adapter?: AdapterLike;
  /** Why this backend, for logs and the run info. */
  reason: string;
}

/** More intra-op threads than this rarely help a small model and starve the decoder and UI. */
export const MAX_WASM_THREADS = 8;
const ADAPTER_TIMEOUT_MS = 5000;

export function currentEnv(): BackendEnv {
  const nav = (globalThis as { navigator?: Navigator }).navigator;
  return {
    gpu: (nav as { gpu?: GpuLike } | undefined)?.gpu,
    crossOriginIsolated: (globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated === true,
    hardwareConcurrency: nav?.hardwareConcurrency ?? 1,
  };
}

/**
 * Threads for ORT's WASM backend: 1 unless cross-origin isolated (no
 * SharedArrayBuffer otherwise), else one less than the cores, capped at
 * MAX_WASM_THREADS: the decoder runs at the same time and the pool's threads
 * spin-wait for each other, so taking every core lost to one thread less
 * (2-core machine: 10 min separated in 17.5 s with 1 thread, 27.7 s with 2;
 * docs/performance.md). `requested` (tests, benchmarks) may use every core.
 */
export function wasmThreads(env: BackendEnv, requested?: number): number {
  if (!env.crossOriginIsolated) return 1;
  const cores = Math.max(1, Math.floor(env.hardwareConcurrency || 1));
  const cap = Math.min(cores, MAX_WASM_THREADS);
  if (requested !== undefined && Number.isFinite(requested)) return Math.max(1, Math.min(Math.floor(requested), cap));
  return Math.max(1, Math.min(cores - 1, MAX_WASM_THREADS));
}

/** What the thread setting can offer here: the automatic count, and the most a user may ask for
 * (1 when not cross-origin isolated: without SharedArrayBuffer ORT runs single-threaded). */
export function threadChoices(env: BackendEnv = currentEnv()): { auto: number; max: number } {
  return { auto: wasmThreads(env), max: wasmThreads(env, MAX_WASM_THREADS) };
}

/** The thread count a setting asks for, or undefined for automatic. A stored count this machine cannot give
 * (another device's setting, isolation lost) counts as automatic, so what the panel shows is what runs. */
export function requestedThreads(setting: 'auto' | number, env: BackendEnv = currentEnv()): number | undefined {
  return setting === 'auto' || setting < 1 || setting > threadChoices(env).max ? undefined : Math.floor(setting);
}

export function isFallbackAdapter(a: AdapterLike): boolean {
  return (a.info?.isFallbackAdapter ?? a.isFallbackAdapter) === true;
}

export function describeAdapter(a: AdapterLike): string {
  const i = a.info ?? {};
  const parts = [i.vendor, i.architecture, i.device, i.description].filter((p): p is string => !!p && p.length > 0);
  const unique = parts.filter((p, k) => parts.indexOf(p) === k);
  return `${unique.join(' ') || 'unknown adapter'}${isFallbackAdapter(a) ? ' (fallback)' : ''}`;
}

async function requestAdapter(gpu: GpuLike | undefined): Promise<AdapterLike | null> {
  if (!gpu || typeof gpu.requestAdapter !== 'function') return null;
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([
      gpu.requestAdapter({ powerPreference: 'high-performance' }),
      new Promise<null>((resolve) => {
        timer = setTimeout(() => resolve(null), ADAPTER_TIMEOUT_MS);
      }),
    ]);
  } catch {
    return null;
  } finally {
    clearTimeout(timer);
  }
}

export async function chooseBackend(setting: BackendSetting, env: BackendEnv = currentEnv(), opts: { threads?: number } = {}): Promise<BackendChoice> {
  const threads = wasmThreads(env, opts.threads);
  const isolation = env.crossOriginIsolated ? 'cross-origin isolated' : 'not cross-origin isolated: 1 thread';
  if (setting === 'wasm') return { backend: 'wasm', threads, reason: `WebAssembly chosen in settings (${isolation})` };

  const adapter = await requestAdapter(env.gpu);
  if (setting === 'webgpu') {
    if (!adapter) throw new VoxError('backend-unavailable', env.gpu ? 'WebGPU is present but gave no adapter.' : 'This browser has no WebGPU.');
    return { backend: 'webgpu', threads, adapter, adapterDescription: describeAdapter(adapter), reason: 'WebGPU chosen in settings' };
  }
  if (setting !== 'auto') throw new VoxError('internal', `Unknown backend setting "${String(setting)}".`);
  if (adapter && !isFallbackAdapter(adapter)) {
    return { backend: 'webgpu', threads, adapter, adapterDescription: describeAdapter(adapter), reason: 'WebGPU adapter available' };
  }
  const why = !env.gpu ? 'no WebGPU' : !adapter ? 'no WebGPU adapter' : `only a software fallback adapter (${describeAdapter(adapter)})`;
  return { backend: 'wasm', threads, reason: `${why}, using WebAssembly (${isolation})` };
}

/** The parts of a GPUDevice the run guard uses. */
export interface GpuDeviceLike {
  pushErrorScope(filter: 'validation' | 'out-of-memory' | 'internal'): void;
  popErrorScope(): Promise<{ message: string } | null>;
  lost?: Promise<{ reason?: string; message: string }>;
}

/**
 * Runs `run` inside WebGPU error scopes. ORT's WebGPU backend does not turn
 * validation errors (e.g. a kernel that needs more storage buffers than the
 * device allows) into exceptions: the work is skipped and the output is wrong.
 * With this guard such a run throws instead: 'out-of-memory' for GPU memory,
 * 'backend-unavailable' otherwise (including a lost device).
 */
export function webgpuRunGuard(device: GpuDeviceLike): <T>(run: () => Promise<T>) => Promise<T> {
  let lost: string | null = null;
  void device.lost?.then((info) => {
    lost = info.message || info.reason || 'device lost';
  });
  let chain: Promise<unknown> = Promise.resolve();
  return <T>(run: () => Promise<T>): Promise<T> => {
    // Scopes are a stack per device: runs must not interleave.
    const next = chain.then(async () => {
      if (lost) throw new VoxError('backend-unavailable', `The WebGPU device was lost (${lost}).`);
      device.pushErrorScope('out-of-memory');
      device.pushErrorScope('validation');
      device.pushErrorScope('internal');
      let result: T | undefined;
      let thrown: unknown = null;
      try {
        result = await run();
      } catch (e) {
        thrown = e ?? new Error('unknown failure');
      }
      const internal = await device.popErrorScope();
      const validation = await device.popErrorScope();
      const oom = await device.popErrorScope();
      if (oom) throw new VoxError('out-of-memory', `WebGPU: ${oom.message}`);
      if (validation || internal) {
        throw new VoxError('backend-unavailable', `WebGPU cannot run this model on this device: ${(validation ?? internal)!.message.split('\n')[0]}`);
      }
      if (lost) throw new VoxError('backend-unavailable', `The WebGPU device was lost (${lost}).`);
      if (thrown !== null) throw thrown;
      return result as T;
    });
    chain = next.catch(() => undefined);
    return next;
  };
}

/**
 * Profiling only: onnxruntime-web's session.run on the model's windows, with
 * nothing of the app around it (no worker messaging, no chunker, no copies
 * out, no finite check), on this page's main thread. Same build
 * ('onnxruntime-web/wasm'), same .wasm file, same session options as the
 * separate worker (src/features/separate/worker.ts). Subtracting this from
 * the app path's time gives what the app adds; comparing it with
 * onnxruntime-node's per-window time gives the engine's own web/native ratio.
 *
 * Single-threaded only: ORT initialises its wasm once per page, and the
 * threaded pool on a page's main thread would block it.
 */
import wasmUrl from 'onnxruntime-web/ort-wasm-simd-threaded.wasm?url';
import { sessionOptionsFor } from '../../src/features/model/session';

/** `sessionConfig`: ORT session config entries replacing the app's `extra` ones, to compare (e.g. { 'session.disable_quant_qdq': '0' }). */
export async function rawOrt(pcm: Float32Array, opts: { windowSeconds: number; windows: number; sessionConfig?: Record<string, string> }) {
  const ort = await import('onnxruntime-web/wasm');
  ort.env.wasm.wasmPaths = { wasm: new URL(wasmUrl, location.href).href };
  ort.env.wasm.numThreads = 1;
  ort.env.wasm.proxy = false;
  ort.env.logLevel = 'error';
  const base = new URL(`${import.meta.env.BASE_URL}models/`, location.href).href;
  const manifest = (await (await fetch(`${base}manifest.json`)).json()) as { artifacts: { file: string }[]; input: { name: string }; output: { name: string } };
  const bytes = new Uint8Array(await (await fetch(`${base}${manifest.artifacts[0].file}`)).arrayBuffer());
  const s0 = performance.now();
  const options = sessionOptionsFor('wasm');
  const session = await ort.InferenceSession.create(bytes, opts.sessionConfig ? { ...options, extra: opts.sessionConfig } : options);
  const sessionMs = performance.now() - s0;
  const W = Math.round(opts.windowSeconds * 16000);
  const run = async (start: number) => {
    const x = new Float32Array(W);
    x.set(pcm.subarray(start, start + W));
    const input = new ort.Tensor('float32', x, [1, W]);
    const t0 = performance.now();
    const out = await session.run({ [manifest.input.name]: input }, [manifest.output.name]);
    const ms = performance.now() - t0;
    out[manifest.output.name].dispose();
    return ms;
  };
  const warmUpMs = await run(0);
  const times: number[] = [];
  const hop = W - 16000;
  for (let k = 0; k < opts.windows; k++) times.push(await run(((k + 1) * hop) % Math.max(1, pcm.length - W)));
  await session.release();
  const sorted = times.slice().sort((a, b) => a - b);
  return { windowSeconds: opts.windowSeconds, windows: times.length, sessionMs, warmUpMs, medianMs: sorted[Math.floor(sorted.length / 2)], minMs: sorted[0], totalMs: times.reduce((a, b) => a + b, 0), times };
}

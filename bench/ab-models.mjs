/**
 * Two model files obeying the VoxSplit contract, one 8 s window each, run alternately in one process:
 * median `session.run` time per file and the largest output difference. For before/after figures of a graph
 * change with the same weights (docs/performance.md).
 *
 *   node bench/ab-models.mjs A.onnx B.onnx [--engine native|web] [--runs 7]
 *
 * native: onnxruntime-node, 1 intra-op thread. web: onnxruntime-web's WASM build in Node, 1 thread, with the
 * app's WASM session options (no QDQ fusion, src/features/model/session.ts). Each side's first run is a warm-up.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args.splice(i, 2)[1] : dflt;
};
const engine = opt('engine', 'native');
const runs = Number(opt('runs', '7'));
if (args.length !== 2 || !['native', 'web'].includes(engine) || !(runs >= 2)) {
  console.error('usage: node bench/ab-models.mjs A.onnx B.onnx [--engine native|web] [--runs N>=2]');
  process.exit(2);
}
const require = createRequire(import.meta.url);
const ort = engine === 'web' ? await import('onnxruntime-web') : require('onnxruntime-node');
if (engine === 'web') ort.env.wasm.numThreads = 1;
const options = engine === 'web'
  ? { executionProviders: ['wasm'], graphOptimizationLevel: 'all', extra: { session: { disable_quant_qdq: '1' } } }
  : { intraOpNumThreads: 1, graphOptimizationLevel: 'all' };

// A deterministic speech-like test signal: two modulated tones and a little noise from a fixed LCG.
const n = 8 * 16000;
const x = new Float32Array(n);
let seed = 1;
for (let i = 0; i < n; i++) {
  seed = (seed * 1664525 + 1013904223) >>> 0;
  x[i] = 0.1 * Math.sin(i * 0.031) * Math.sin(i * 0.0003) + 0.08 * Math.sin(i * 0.047 + Math.sin(i * 0.0002)) + 0.01 * (seed / 2 ** 32 - 0.5);
}
const files = args.map((f) => path.resolve(f));
const sessions = await Promise.all(files.map((f) => ort.InferenceSession.create(new Uint8Array(readFileSync(f)), options)));
const times = files.map(() => []);
const outs = [];
for (let r = 0; r < runs; r++) {
  for (const k of r % 2 ? [1, 0] : [0, 1]) {
    const t0 = performance.now();
    const o = await sessions[k].run({ mixture: new ort.Tensor('float32', x, [1, n]) });
    if (r > 0) times[k].push(performance.now() - t0);
    outs[k] = o.sources.data;
  }
}
let diff = 0;
for (let i = 0; i < outs[0].length; i++) diff = Math.max(diff, Math.abs(outs[0][i] - outs[1][i]));
const median = (a) => [...a].sort((p, q) => p - q)[Math.floor(a.length / 2)];
for (const [k, f] of files.entries()) console.log(`${engine} ${path.basename(f)}: median ${median(times[k]).toFixed(1)} ms, min ${Math.min(...times[k]).toFixed(1)} ms (${times[k].length} runs of an 8 s window)`);
console.log(`ratio B/A ${(median(times[1]) / median(times[0])).toFixed(3)}; max abs output difference ${diff.toExponential(2)}`);

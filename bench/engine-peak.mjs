/**
 * The arithmetic ceiling of each engine: one float32 MatMul of the model's shapes, run by onnxruntime-node and by
 * onnxruntime-web's WASM build (in Node, the same .wasm the app loads), 1 thread each, alternating. Prints GFLOP/s
 * per engine and the web/native ratio. If this ratio is about the whole model's web/native ratio, the gap is the
 * engines' float throughput (SIMD width, FMA), not the graph or the app (docs/performance.md).
 *
 *   node bench/engine-peak.mjs [--runs 15]
 *
 * Shapes: [1, 1000, 512] x [512, 514] (the 512-tap DFT analysis, 8 s of frames) and [1, 1000, 128] x [128, 384]
 * (a transformer layer's QKV projection). Needs /usr/bin/python3 with python3-onnx (scripts/system-deps.sh test).
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

const args = process.argv.slice(2);
const i = args.indexOf('--runs');
const runs = i >= 0 ? Number(args[i + 1]) : 15;
if (!(runs >= 3)) {
  console.error('usage: node bench/engine-peak.mjs [--runs N>=3]');
  process.exit(2);
}
const require = createRequire(import.meta.url);
const native = require('onnxruntime-node');
const web = await import('onnxruntime-web');
web.env.wasm.numThreads = 1;

const dir = path.resolve('bench/.inputs');
mkdirSync(dir, { recursive: true });
const M = 1000;
const shapes = [[512, 514, 'DFT analysis'], [128, 384, 'QKV projection']];
const median = (a) => [...a].sort((p, q) => p - q)[Math.floor(a.length / 2)];
const rows = [];
for (const [K, N, what] of shapes) {
  const file = path.join(dir, `matmul-${K}x${N}.onnx`);
  try {
    execFileSync('/usr/bin/python3', ['bench/lib/make-matmul.py', file, String(K), String(N)], { stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (e) {
    console.error(`error: could not write the test model with /usr/bin/python3 and python3-onnx (bash scripts/system-deps.sh test): ${String(e.stderr ?? e.message).trim().split('\n').pop()}`);
    process.exit(1);
  }
  const bytes = new Uint8Array(readFileSync(file));
  const x = new Float32Array(M * K);
  for (let j = 0; j < x.length; j++) x[j] = Math.sin(j * 0.37) * 0.5;
  const engines = {
    native: { ort: native, session: await native.InferenceSession.create(bytes, { intraOpNumThreads: 1, graphOptimizationLevel: 'all' }) },
    web: { ort: web, session: await web.InferenceSession.create(bytes, { executionProviders: ['wasm'], graphOptimizationLevel: 'all' }) },
  };
  const times = { native: [], web: [] };
  const outs = {};
  for (let r = 0; r < runs; r++) {
    for (const name of r % 2 ? ['web', 'native'] : ['native', 'web']) {
      const { ort, session } = engines[name];
      const t0 = performance.now();
      const o = await session.run({ x: new ort.Tensor('float32', x, [1, M, K]) });
      if (r > 0) times[name].push(performance.now() - t0);
      outs[name] = o.y.data;
    }
  }
  let diff = 0;
  for (let j = 0; j < outs.native.length; j++) diff = Math.max(diff, Math.abs(outs.native[j] - outs.web[j]));
  const gflops = (ms) => (2 * M * K * N) / (ms * 1e6);
  const n = median(times.native);
  const w = median(times.web);
  rows.push({ what, shape: `[${M},${K}]x[${K},${N}]`, nativeMs: n, webMs: w, nativeGflops: gflops(n), webGflops: gflops(w), ratio: w / n, maxAbsDiff: diff });
}
for (const r of rows) {
  console.log(`${r.what.padEnd(15)} ${r.shape.padEnd(20)} native ${r.nativeMs.toFixed(2)} ms (${r.nativeGflops.toFixed(1)} GFLOP/s)  ` +
    `web ${r.webMs.toFixed(2)} ms (${r.webGflops.toFixed(1)} GFLOP/s)  web/native ${r.ratio.toFixed(2)}  max abs diff ${r.maxAbsDiff.toExponential(1)}`);
}
console.log(JSON.stringify({ runs, threads: 1, rows }));

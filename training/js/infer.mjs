// Batch inference / RTF with onnxruntime-node (single thread).
//   node training/js/infer.mjs run MODEL.onnx IN.f32 LENGTHS.json OUT.f32
//      IN.f32: the items' samples concatenated; LENGTHS.json: [T0, T1, ...];
//      OUT.f32: for each item its [S, T] output, concatenated. Prints {"S":..., "items":...}.
//   node training/js/infer.mjs rtf MODEL.onnx [SECONDS=10] [RUNS=3]
//      Prints {"seconds":..., "ms":..., "rtf":...} (median of RUNS after one warm-up run).
//   node training/js/infer.mjs contract MODEL.onnx
//      Checks the I/O contract (input `mixture` [1,T] float32, output `sources` [1,S,T]) on T=12345 and T=16000.
import { readFileSync, writeFileSync, openSync, writeSync, closeSync } from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const ort = require('../../node_modules/onnxruntime-node');

function fail(msg) {
  console.error(`error: ${msg}`);
  process.exit(3);
}

const [mode, modelPath, ...rest] = process.argv.slice(2);
if (!mode || !modelPath) {
  console.error('usage: infer.mjs run|rtf|contract MODEL.onnx ...');
  process.exit(2);
}
let session;
try {
  session = await ort.InferenceSession.create(modelPath, { intraOpNumThreads: 1, interOpNumThreads: 1, executionMode: 'sequential' });
} catch (e) {
  fail(`cannot load ${modelPath}: ${e.message}`);
}

async function run(x) {
  const out = await session.run({ mixture: new ort.Tensor('float32', x, [1, x.length]) });
  const y = out.sources;
  if (!y) fail('model has no output named "sources"');
  const d = Array.from(y.dims);
  if (d.length !== 3 || d[0] !== 1 || d[2] !== x.length) fail(`output "sources" has shape [${d}], expected [1,S,${x.length}]`);
  if (y.type !== 'float32') fail(`output dtype ${y.type}, expected float32`);
  return y;
}

function checkNames() {
  if (!session.inputNames.includes('mixture') || session.inputNames.length !== 1) fail(`inputs are [${session.inputNames}], expected [mixture]`);
  if (!session.outputNames.includes('sources')) fail(`outputs are [${session.outputNames}], expected to include sources`);
}

if (mode === 'contract') {
  checkNames();
  let S = null;
  for (const T of [12345, 16000]) {
    const x = new Float32Array(T);
    for (let i = 0; i < T; i++) x[i] = 0.1 * Math.sin(i * 0.05) + 0.05 * Math.sin(i * 0.31);
    const y = await run(x);
    for (const v of y.data) if (!Number.isFinite(v)) fail(`non-finite output for T=${T}`);
    S = y.dims[1];
  }
  console.log(JSON.stringify({ ok: true, S }));
} else if (mode === 'run') {
  checkNames();
  const [inPath, lenPath, outPath] = rest;
  const b = readFileSync(inPath);
  const all = new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
  const lengths = JSON.parse(readFileSync(lenPath, 'utf8'));
  const fd = openSync(outPath, 'w');
  let off = 0;
  let S = null;
  for (const T of lengths) {
    const y = await run(all.subarray(off, off + T).slice());
    off += T;
    S = y.dims[1];
    writeSync(fd, Buffer.from(y.data.buffer, y.data.byteOffset, y.data.byteLength));
  }
  closeSync(fd);
  console.log(JSON.stringify({ S, items: lengths.length }));
} else if (mode === 'rtf') {
  checkNames();
  const seconds = Number(rest[0] ?? 10);
  const runs = Number(rest[1] ?? 3);
  const T = Math.round(seconds * 16000);
  const x = new Float32Array(T);
  let s = 1;
  for (let i = 0; i < T; i++) {
    s = (s * 16807) % 2147483647;
    x[i] = 0.1 * ((s / 2147483647) * 2 - 1) + 0.1 * Math.sin(i * 0.07) * Math.sin(i * 0.0005);
  }
  await run(x);
  const times = [];
  for (let r = 0; r < runs; r++) {
    const t0 = process.hrtime.bigint();
    await run(x);
    times.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  times.sort((a, b) => a - b);
  const ms = times[Math.floor(times.length / 2)];
  console.log(JSON.stringify({ seconds, ms: Math.round(ms), rtf: ms / 1000 / seconds, runs: times.map(Math.round) }));
} else {
  fail(`unknown mode ${mode}`);
}

// Parity: onnxruntime-node vs PyTorch reference outputs written by `training.export --parity-dir DIR`.
//   node training/js/parity.mjs MODEL.onnx DIR [--tol 1e-4]
// Works for any single-input, single-output model fed [1, T] (the separator: mixture -> sources [1, S, T]; the
// voiceprint: audio -> embedding [1, D]): the reference's shape is in cases.json.
// Prints the max abs difference per length and overall; exits 1 if any exceeds the tolerance.
// --min-cosine C instead requires each output's cosine with the reference >= C (an int8 voiceprint against PyTorch's
// float32 one: the direction is what the associate stage compares).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const ort = require('../../node_modules/onnxruntime-node');

const args = process.argv.slice(2);
const option = (name) => {
  const i = args.indexOf(name);
  if (i < 0) return undefined;
  const v = Number(args[i + 1]);
  args.splice(i, 2);
  return v;
};
const tol = option('--tol') ?? 1e-4;
const minCosine = option('--min-cosine');
const [modelPath, dir] = args;
if (!modelPath || !dir) {
  console.error('usage: node training/js/parity.mjs MODEL.onnx PARITY_DIR [--tol 1e-4]');
  process.exit(2);
}

function readF32(p) {
  const b = readFileSync(p);
  return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
}

const session = await ort.InferenceSession.create(modelPath, { intraOpNumThreads: 1, interOpNumThreads: 1 });
const cases = JSON.parse(readFileSync(join(dir, 'cases.json'), 'utf8'));
let worst = 0;
let ok = true;
for (const c of cases) {
  const x = readF32(join(dir, c.input));
  const ref = readF32(join(dir, c.output));
  const out = await session.run({ [session.inputNames[0]]: new ort.Tensor('float32', x, [1, c.T]) });
  const y = out[session.outputNames[0]];
  const dims = Array.from(y.dims);
  if (dims.length !== c.shape.length || dims.some((d, i) => d !== c.shape[i])) {
    console.error(`T=${c.T}: output shape [${dims}] != [${c.shape}]`);
    ok = false;
    continue;
  }
  if (minCosine !== undefined) {
    let dot = 0;
    let a = 0;
    let b = 0;
    for (let i = 0; i < ref.length; i++) {
      dot += y.data[i] * ref[i];
      a += y.data[i] * y.data[i];
      b += ref[i] * ref[i];
    }
    const cos = dot / Math.sqrt(a * b);
    worst = Math.max(worst, 1 - cos);
    console.log(`T=${c.T}\tcosine=${cos.toFixed(5)}`);
    if (!(cos >= minCosine)) ok = false;
    continue;
  }
  let m = 0;
  for (let i = 0; i < ref.length; i++) {
    const d = Math.abs(y.data[i] - ref[i]);
    if (!(d <= m)) m = Number.isNaN(d) ? Infinity : d;
  }
  worst = Math.max(worst, m);
  console.log(`T=${c.T}\tmax_abs_diff=${m.toExponential(3)}`);
  if (!(m < tol)) ok = false;
}
console.log(
  minCosine !== undefined
    ? `parity min_cosine=${(1 - worst).toFixed(5)} required=${minCosine} ${ok ? 'OK' : 'FAIL'}`
    : `parity max_abs_diff=${worst.toExponential(3)} tol=${tol} ${ok ? 'OK' : 'FAIL'}`,
);
process.exit(ok ? 0 : 1);

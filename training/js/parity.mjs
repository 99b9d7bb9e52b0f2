// Parity: onnxruntime-node vs PyTorch reference outputs written by `training.export --parity-dir DIR`.
//   node training/js/parity.mjs MODEL.onnx DIR [--tol 1e-4]
// Prints the max abs difference per length and overall; exits 1 if any exceeds the tolerance.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const ort = require('../../node_modules/onnxruntime-node');

const args = process.argv.slice(2);
const tolIdx = args.indexOf('--tol');
const tol = tolIdx >= 0 ? Number(args[tolIdx + 1]) : 1e-4;
const [modelPath, dir] = tolIdx >= 0 ? args.filter((a, i) => i !== tolIdx && i !== tolIdx + 1) : args;
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
  const out = await session.run({ mixture: new ort.Tensor('float32', x, [1, c.T]) });
  const y = out.sources;
  const dims = Array.from(y.dims);
  if (dims.length !== 3 || dims[0] !== 1 || dims[1] !== c.shape[1] || dims[2] !== c.T) {
    console.error(`T=${c.T}: output shape [${dims}] != [${c.shape}]`);
    ok = false;
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
console.log(`parity max_abs_diff=${worst.toExponential(3)} tol=${tol} ${ok ? 'OK' : 'FAIL'}`);
process.exit(ok ? 0 : 1);

// The app's separate + associate stages on onnxruntime-node, for training/conversations.py:
//   node training/js/associate.mjs SEPARATOR.onnx VOICEPRINT.onnx DIR
// DIR/cases.json lists {name, T}; DIR/NAME.mix.f32 is each mono 16 kHz input. Runs the app's ChunkedSeparator
// (the manifest's chunking and output kinds) and writes DIR/NAME.none.f32 ([S, T], as the app did before the associate
// stage), then the app's VoiceAssociator over the same blocks and writes DIR/NAME.assoc.f32. Prints one JSON line.
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { buildNodeLib } from '../../bench/lib/build-node.mjs';

// --trace: each segment's decision in the output; --params JSON: associate parameters to try (features/associate/params.ts)
const argv = process.argv.slice(2);
const trace = argv.includes('--trace');
const pi = argv.indexOf('--params');
const params = pi >= 0 ? JSON.parse(argv.splice(pi, 2)[1]) : {};
const [sepPath, vpPath, dir] = argv.filter((a) => a !== '--trace');
if (!sepPath || !vpPath || !dir) {
  console.error('usage: node training/js/associate.mjs SEPARATOR.onnx VOICEPRINT.onnx DIR');
  process.exit(2);
}
const lib = await import(await buildNodeLib());
const ort = await import('onnxruntime-node');
const manifest = lib.parseManifest(readFileSync('public/models/manifest.json', 'utf8'));
const kinds = manifest.sources.map((s) => s.kind);
const opts = { intraOpNumThreads: 1, interOpNumThreads: 1, graphOptimizationLevel: 'all', logSeverityLevel: 3 };
const sep = await ort.InferenceSession.create(sepPath, opts);
const vp = await ort.InferenceSession.create(vpPath, opts);
const S = kinds.length;

async function separate(w) {
  const out = await sep.run({ [sep.inputNames[0]]: new ort.Tensor('float32', w, [1, w.length]) });
  const y = out[sep.outputNames[0]].data;
  return Array.from({ length: S }, (_, i) => y.slice(i * w.length, (i + 1) * w.length));
}
let embedMs = 0;
// the trace callback runs right after the segment's voiceprint: it records that voiceprint (training/routing.py)
let lastPrint;
async function embed(x) {
  const t = performance.now();
  const out = await vp.run({ [vp.inputNames[0]]: new ort.Tensor('float32', x, [1, x.length]) });
  embedMs += performance.now() - t;
  lastPrint = Float32Array.from(out[vp.outputNames[0]].data);
  return lastPrint;
}

const readF32 = (p) => {
  const b = readFileSync(p);
  return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
};
const write = (p, T, blocks) => {
  const y = new Float32Array(S * T);
  for (const b of blocks) b.sources.forEach((s, i) => y.set(s, i * T + b.start));
  writeFileSync(p, Buffer.from(y.buffer));
};

const report = [];
let assocMs = 0;
for (const { name, T } of JSON.parse(readFileSync(path.join(dir, 'cases.json'), 'utf8'))) {
  const pcm = readF32(path.join(dir, `${name}.mix.f32`));
  if (pcm.length !== T) throw new Error(`${name}: ${pcm.length} samples, cases.json says ${T}`);
  const chunker = new lib.ChunkedSeparator(separate, { ...manifest.chunking, sampleRate: manifest.sampleRate, kinds, minWindowSamples: 1600 });
  const blocks = [];
  for (let at = 0; at < T; at += lib.CHUNK_SAMPLES) blocks.push(...(await chunker.push(pcm.slice(at, at + lib.CHUNK_SAMPLES))));
  blocks.push(...(await chunker.finish()));
  write(path.join(dir, `${name}.none.f32`), T, blocks);
  const decisions = [];
  const assoc = new lib.VoiceAssociator({ kinds, embed, sampleRate: manifest.sampleRate, params, trace: trace ? (d) => decisions.push({ ...d, print: Array.from(lastPrint) }) : undefined });
  const routed = [];
  const t = performance.now();
  // copies: the associator routes in place on its own buffers, but the blocks above are written already
  for (const b of blocks) routed.push(...(await assoc.push({ start: b.start, sources: b.sources.map((s) => s.slice()) })));
  routed.push(...(await assoc.finish()));
  assocMs += performance.now() - t;
  write(path.join(dir, `${name}.assoc.f32`), T, routed);
  report.push({ name, ...assoc.summary, ...(trace ? { decisions } : {}) });
}
console.log(JSON.stringify({ S, files: report, associateMs: assocMs, embedMs }));

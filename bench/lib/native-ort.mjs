/**
 * One native separation run, in its own process so its peak RSS is its own:
 *   node bench/lib/native-ort.mjs '{"pcm":"…f32","threads":1,"profile":false,"refOut":null,"refSeconds":30}'
 * The app's own code path on onnxruntime-node: verify (SHA-256) → createVerifiedSession
 * (graphOptimizationLevel 'all', as the worker) → 0.25 s warm-up (as the worker) →
 * ChunkedSeparator with the manifest's chunking, fed 10 s PcmChunks (as the decoder sends).
 * Prints one JSON line.
 */
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync, existsSync, renameSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';

const opts = JSON.parse(process.argv[2]);
const rssMiB = (field) => {
  const m = new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync('/proc/self/status', 'utf8'));
  return m ? Number(m[1]) / 1024 : null;
};
const lib = await import(path.resolve('bench/.cache/node/node-entry.mjs'));
const ort = await import('onnxruntime-node');
const dir = path.resolve('public/models');
const baselineRssMiB = rssMiB('VmRSS');

const fileFetch = async (url) => {
  const p = url.replace(/^file:\/\//, '');
  return existsSync(p) ? new Response(readFileSync(p)) : new Response('', { status: 404 });
};
const pin = createHash('sha256').update(readFileSync(path.join(dir, 'manifest.json'))).digest('hex');

const t0 = performance.now();
const verified = await lib.loadVerifiedManifest(`file://${dir}/`, pin, { fetch: fileFetch });
const t1 = performance.now();
const sessionOptions = {
  executionProviders: ['cpu'],
  graphOptimizationLevel: 'all',
  intraOpNumThreads: opts.threads,
  interOpNumThreads: 1,
  logSeverityLevel: 3,
};
const profileDir = path.resolve('bench/.cache/profile');
if (opts.profile) Object.assign(sessionOptions, { enableProfiling: true, profileFilePrefix: path.join(profileDir, `ort-node-${opts.threads}t`) });
const runner = await lib.createVerifiedSession(ort, verified, sessionOptions);
const warm = new Float32Array(4000);
for (let i = 0; i < warm.length; i++) warm[i] = 0.1 * Math.sin(i * 0.05) + 0.05 * Math.sin(i * 0.31);
const w0 = performance.now();
await runner.run(warm);
const t2 = performance.now();

const buf = readFileSync(opts.pcm);
const pcm = new Float32Array(buf.buffer, buf.byteOffset, buf.byteLength / 4);
const m = runner.manifest;
let modelMs = 0;
let windows = 0;
const sep = new lib.ChunkedSeparator(
  async (w) => {
    const a = performance.now();
    const out = await runner.run(w);
    modelMs += performance.now() - a;
    windows++;
    return out;
  },
  // opts.chunkSeconds: the window-size sweep (--chunk-sweep) overrides the manifest's window length.
  { ...m.chunking, ...(opts.chunkSeconds ? { chunkSeconds: opts.chunkSeconds } : {}), sampleRate: m.sampleRate, kinds: m.sources.map((s) => s.kind), minWindowSamples: 1600 },
);
const refSamples = opts.refOut ? Math.min(pcm.length, Math.round((opts.refSeconds ?? 30) * m.sampleRate)) : 0;
const ref = refSamples ? m.sources.map(() => new Float32Array(refSamples)) : null;
let done = 0;
const take = (blocks) => {
  for (const b of blocks) {
    if (b.start !== done) throw new Error(`block at ${b.start}, expected ${done}`);
    if (ref && b.start < refSamples) b.sources.forEach((s, i) => ref[i].set(s.subarray(0, Math.min(s.length, refSamples - b.start)), b.start));
    done += b.sources[0].length;
  }
};
const s0 = performance.now();
const c0 = process.cpuUsage();
for (let at = 0; at < pcm.length; at += lib.CHUNK_SAMPLES) {
  // Each chunk owns its buffer, as the decoder's chunks do.
  take(await sep.push(pcm.slice(at, at + lib.CHUNK_SAMPLES)));
}
take(await sep.finish());
const separateMs = performance.now() - s0;
const cpu = process.cpuUsage(c0);
if (done !== pcm.length) throw new Error(`separated ${done} of ${pcm.length}`);

let profileFile = null;
if (opts.profile) {
  // endProfiling is not exposed by the app's runner; release() flushes the profile.
  await runner.release();
  const made = readdirSync(profileDir).filter((f) => f.startsWith(`ort-node-${opts.threads}t`)).sort();
  profileFile = made.length ? path.join(profileDir, made[made.length - 1]) : null;
}
if (ref) {
  const out = new Float32Array(refSamples * ref.length);
  ref.forEach((r, i) => out.set(r, i * refSamples));
  writeFileSync(`${opts.refOut}.part`, Buffer.from(out.buffer));
  renameSync(`${opts.refOut}.part`, opts.refOut);
}
// Raw session.run on full windows, nothing of the app around it (compare bench/web/raw-ort.ts).
let raw = null;
if (opts.rawWindows) {
  const session = await ort.InferenceSession.create(verified.artifacts.get(m.artifacts[0].file), { ...sessionOptions, enableProfiling: false });
  const W = Math.round(m.chunking.chunkSeconds * m.sampleRate);
  const hop = W - Math.round(m.chunking.overlapSeconds * m.sampleRate);
  const run = async (start) => {
    const x = new Float32Array(W);
    x.set(pcm.subarray(start, start + W));
    const t = performance.now();
    await session.run({ [m.input.name]: new ort.Tensor('float32', x, [1, W]) }, [m.output.name]);
    return performance.now() - t;
  };
  const warmUpMs = await run(0);
  const times = [];
  for (let k = 0; k < opts.rawWindows; k++) times.push(await run(((k + 1) * hop) % Math.max(1, pcm.length - W)));
  await session.release();
  const sorted = times.slice().sort((a, b) => a - b);
  raw = { windowSeconds: m.chunking.chunkSeconds, windows: times.length, warmUpMs, medianMs: sorted[Math.floor(sorted.length / 2)], minMs: sorted[0], times };
}
const seconds = pcm.length / m.sampleRate;
console.log(
  JSON.stringify({
    threads: opts.threads,
    seconds,
    verifyMs: t1 - t0,
    sessionMs: w0 - t1,
    warmUpMs: t2 - w0,
    separateMs,
    cpuMs: (cpu.user + cpu.system) / 1000,
    rtf: separateMs / 1000 / seconds,
    windows,
    modelMs,
    chunkingOverheadMs: separateMs - modelMs,
    baselineRssMiB,
    peakRssMiB: rssMiB('VmHWM'),
    profileFile,
    raw,
    ortVersion: ort.env?.versions?.node ?? null,
  }),
);

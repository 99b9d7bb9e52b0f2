#!/usr/bin/env node
/**
 * VoxSplit benchmark: one command, one machine, one run.
 *
 *   npm run bench                 1- and 10-minute inputs
 *   npm run bench -- --long       adds the 60-minute inputs and a 3-hour audio file through the app (hours: generating and processing them takes a while)
 *   npm run bench -- --app-minutes=180   extra audio-only inputs of these lengths for the app pipeline alone (--long: 180)
 *   npm run bench -- --app-kinds=video   which of the main inputs go through the app pipeline (default audio,video)
 *   npm run bench -- --app-threads=auto,2   the app's "WebAssembly threads" setting, one pipeline run per value (default auto;
 *                                            targets and growth use the auto runs)
 *   npm run bench -- --minutes=1  only these lengths (comma-separated)
 *   npm run bench -- --only=native,web,webgpu,app   only these sections
 *   npm run bench -- --repeat=3   runs per separation/decode case (default: 3 for 1 min, 1 for longer inputs; the median is reported)
 *   npm run bench -- --think-ms=5000   wait this long between the file's facts and Separate in the app runs (a user reading them)
 *   npm run bench -- --chunk-sweep=4,8,16,30   native ORT, 1 thread, on the longest input with these window lengths (s)
 *   npm run bench -- --report-only   re-derive ratios and print the table from bench/results.json
 *   npm run bench -- --out=FILE   write the results there instead of bench/results.json
 *
 * Prints a table and writes bench/results.json. What is measured and how: docs/performance.md.
 * Uses ports 4271 (bench page), 4272 (counting proxy), 4273 (app); one browser at a time.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { appBenchmarks } from './lib/app.mjs';
import { launch } from './lib/browser.mjs';
import { buildNodeLib } from './lib/build-node.mjs';
import { analyseProfile, ffmpegNative, ortNative, versions } from './lib/native.mjs';
import { busiestProcesses, loadAverage, machine } from './lib/proc.mjs';
import { startPreview, stopAll, viteBuild } from './lib/servers.mjs';
import { chunkingWeb, decodeWeb, ffmpegProfileWeb, openBenchPage, rawOrtWeb, pageInfo, separateWeb, sha256Web, webgpuCase } from './lib/web.mjs';
import { makeInputs } from './inputs.mjs';

const BENCH_PORT = 4271;
const REF_SECONDS = 30;

// ---------------------------------------------------------------- options
const argv = process.argv.slice(2);
const flag = (name) => argv.includes(`--${name}`);
const value = (name) => {
  const i = argv.findIndex((a) => a === `--${name}` || a.startsWith(`--${name}=`));
  if (i < 0) return undefined;
  return argv[i].includes('=') ? argv[i].split('=').slice(1).join('=') : argv[i + 1];
};
const RESULTS = path.resolve(value('out') ?? 'bench/results.json');
if (flag('help')) {
  console.log(readFileSync(new URL(import.meta.url), 'utf8').split('\n').slice(2, 19).join('\n'));
  process.exit(0);
}
const minutesList = value('minutes') ? value('minutes').split(',').map(Number) : flag('long') ? [1, 10, 60] : [1, 10];
// Audio-only inputs that only go through the app pipeline (the long-media memory bound), not the engine-by-engine runs.
const appOnlyMinutes = (value('app-minutes') ? value('app-minutes').split(',').map(Number) : flag('long') ? [180] : []).filter((m) => !minutesList.includes(m));
const appKinds = (value('app-kinds') ?? 'audio,video').split(',');
const appThreads = (value('app-threads') ?? 'auto').split(',').map((t) => (t === 'auto' ? 'auto' : String(Number(t))));
// The app runs the targets and growth figures use: the default setting (older results have no threadsSetting).
const threadsOf = (p) => p.threadsSetting ?? 'auto';
const isDefaultThreads = (p) => threadsOf(p) === 'auto';
const only = new Set((value('only') ?? 'native,web,webgpu,app').split(','));
const repeatOverride = value('repeat') ? Number(value('repeat')) : undefined;
const repeatsFor = (minutes) => repeatOverride ?? (minutes <= 1 ? 3 : 1);
// One 8 s window: on SwiftShader a 0.25 s warm-up alone takes ~1.5 min (shader compilation included).
const webgpuSeconds = Number(value('webgpu-seconds') ?? 8);

const t0 = Date.now();
const log = (s) => console.log(`[${((Date.now() - t0) / 1000).toFixed(0).padStart(4)} s] ${s}`);

let cleanedUp = false;
const cleanup = () => {
  if (cleanedUp) return;
  cleanedUp = true;
  stopAll();
};
process.on('exit', cleanup);
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, () => {
    cleanup();
    process.exit(130);
  });
}

// ---------------------------------------------------------------- helpers
const median = (xs) => {
  const s = xs.filter((x) => typeof x === 'number' && Number.isFinite(x)).sort((a, b) => a - b);
  if (!s.length) return null;
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const max = (xs) => {
  const s = xs.filter((x) => typeof x === 'number' && Number.isFinite(x));
  return s.length ? Math.max(...s) : null;
};
const round = (x, d = 3) => (typeof x === 'number' && Number.isFinite(x) ? Math.round(x * 10 ** d) / 10 ** d : x);
const git = () => {
  const g = (...a) => {
    try {
      return execFileSync('git', a, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    } catch {
      return null;
    }
  };
  const dirty = (g('status', '--porcelain') ?? '').split('\n').filter(Boolean);
  // The builds use the working tree: uncommitted changes to what ships (src/, public/, configs) are part of what was measured.
  const shipped = dirty.map((l) => l.slice(3)).filter((f) => /^(src|public)\/|^(vite\.config\.ts|index\.html|package(-lock)?\.json)$/.test(f));
  return { commit: g('rev-parse', 'HEAD'), branch: g('rev-parse', '--abbrev-ref', 'HEAD'), dirtyFiles: dirty.length, uncommittedAppFiles: shipped.slice(0, 50) };
};

function modelFacts() {
  const manifest = JSON.parse(readFileSync('public/models/manifest.json', 'utf8'));
  const a = manifest.artifacts[0];
  return { id: manifest.id, version: manifest.version, file: a.file, bytes: a.bytes, sha256: a.sha256, chunking: manifest.chunking, sampleRate: manifest.sampleRate, sources: manifest.sources.map((s) => s.id), quantization: manifest.provenance?.quantization ?? null, config: manifest.provenance?.config ?? null, trainingSteps: manifest.provenance?.trainingSteps ?? null };
}

// ---------------------------------------------------------------- run
const results = {
  format: 'voxsplit-bench/1',
  startedAt: new Date().toISOString(),
  finishedAt: null,
  command: `node bench/run.mjs ${argv.join(' ')}`.trim(),
  minutes: minutesList,
  git: git(),
  machine: { ...machine(), loadAverageAtStart: loadAverage(), busiestProcessesAtStart: busiestProcesses(5) },
  versions: versions(),
  model: modelFacts(),
  inputs: [],
  sha256: null,
  chunkingOverhead: {},
  separation: [],
  decode: [],
  profile: null,
  app: null,
  ratios: {},
  scaling: {},
  targets: [],
  errors: [],
};
const fail = (where, e) => {
  const msg = `${where}: ${e?.message ?? e}`;
  results.errors.push(msg);
  log(`ERROR ${msg}`);
};
const save = () => {
  writeFileSync(RESULTS, `${JSON.stringify(results, null, 2)}\n`);
};

async function main() {
  if (flag('report-only')) {
    // Re-derive and print from an existing bench/results.json (no measuring).
    Object.assign(results, JSON.parse(readFileSync(RESULTS, 'utf8')), { ratios: {}, scaling: {}, targets: [] });
    minutesList.splice(0, minutesList.length, ...results.minutes);
    derive();
    save();
    printTable();
    return;
  }
  log(`VoxSplit benchmark: ${minutesList.join(', ')} min; sections ${[...only].join(', ')}; load average ${Object.values(results.machine.loadAverageAtStart).join(' ')} on ${results.machine.cores} cores`);

  // Inputs.
  const inputs = [];
  for (const m of minutesList) {
    log(`inputs: ${m} min …`);
    const inp = makeInputs(m, (s) => log(`  ${s}`));
    inputs.push(inp);
    results.inputs.push({ minutes: m, seconds: inp.seconds, files: Object.fromEntries(['audio', 'video', 'pcm'].map((k) => [k, { name: path.basename(inp[k]), bytes: inp.bytes[k] }])), generateMs: inp.generateMs });
  }
  const appOnlyInputs = [];
  if (only.has('app')) {
    for (const m of appOnlyMinutes) {
      log(`inputs: ${m} min (audio only, app pipeline) …`);
      const inp = makeInputs(m, (s) => log(`  ${s}`), { video: false, pcm: false });
      appOnlyInputs.push(inp);
      results.inputs.push({ minutes: m, seconds: inp.seconds, appOnly: true, files: { audio: { name: path.basename(inp.audio), bytes: inp.bytes.audio } }, generateMs: inp.generateMs });
    }
  }
  // Cold start to first result is about a short file, whatever lengths this run measures.
  const coldInput = () => {
    const short = inputs.find((i) => i.minutes <= 1) ?? makeInputs(1, (s) => log(`  ${s}`), { video: false, pcm: false });
    return { file: short.audio, seconds: short.seconds };
  };
  const refOf = (m) => path.resolve(`bench/.cache/ref-${m}min-${REF_SECONDS}s.f32`);

  // ------------------------------------------------------------ native
  if (only.has('native') || only.has('web')) {
    log('building the app modules for Node (bench/lib/node-entry.ts) …');
    await buildNodeLib();
  }
  const threadsAll = results.machine.cores;
  if (only.has('native') || only.has('web')) {
    mkdirSync('bench/.cache/profile', { recursive: true });
    for (const inp of inputs) {
      for (const threads of [...new Set([1, threadsAll])]) {
        const runs = [];
        for (let r = 0; r < repeatsFor(inp.minutes); r++) {
          const load = loadAverage().one;
          try {
            const needRef = threads === 1 && r === 0;
            if (needRef) rmSync(refOf(inp.minutes), { force: true });
            const res = ortNative({ pcm: inp.pcm, threads, refOut: needRef ? refOf(inp.minutes) : null, refSeconds: REF_SECONDS });
            runs.push({ ...res, loadAverage1m: load });
            log(`native ORT ${threads}t ${inp.minutes} min: ${(res.separateMs / 1000).toFixed(2)} s, RTF ${res.rtf.toFixed(4)}, peak RSS ${res.peakRssMiB.toFixed(0)} MiB (load ${load})`);
          } catch (e) {
            fail(`native ORT ${threads}t ${inp.minutes} min`, e);
          }
        }
        results.separation.push(summariseSeparation('onnxruntime-node', 'cpu', threads, inp, runs));
        save();
      }
      for (const kind of ['audio', 'video']) {
        const runs = [];
        for (let r = 0; r < repeatsFor(inp.minutes); r++) {
          try {
            runs.push({ ...ffmpegNative(inp[kind]), loadAverage1m: loadAverage().one });
          } catch (e) {
            fail(`native ffmpeg ${kind} ${inp.minutes} min`, e);
          }
        }
        const wallMs = median(runs.map((r) => r.wallMs));
        results.decode.push({ engine: 'ffmpeg (native)', kind, minutes: inp.minutes, seconds: inp.seconds, file: path.basename(inp[kind]), bytes: inp.bytes[kind], runs, decodeMs: wallMs, cpuMs: median(runs.map((r) => r.cpuMs)), rtf: wallMs === null ? null : wallMs / 1000 / inp.seconds, peakMemMiB: max(runs.map((r) => r.peakRssMiB)) });
        log(`native ffmpeg ${kind} ${inp.minutes} min: ${round(wallMs, 0)} ms`);
      }
    }
    if (only.has('native')) {
      try {
        log('profiling onnxruntime-node (1 thread, enableProfiling) on the shortest input …');
        rmSync('bench/.cache/profile', { recursive: true, force: true });
        mkdirSync('bench/.cache/profile', { recursive: true });
        const p = ortNative({ pcm: inputs[0].pcm, threads: 1, profile: true });
        results.profile = { input: path.basename(inputs[0].pcm), threads: 1, note: 'profiling itself adds overhead: use the shares, not the absolute times', separateMs: p.separateMs, modelMs: p.modelMs, ...analyseProfile(p.profileFile) };
      } catch (e) {
        fail('ORT profile', e);
      }
      try {
        const raw = ortNative({ pcm: inputs[0].pcm, threads: 1, rawWindows: 8 }).raw;
        results.rawSessionRun = { ...(results.rawSessionRun ?? {}), native1t: raw };
        log(`bare session.run, 8 s window, native 1 thread: median ${raw.medianMs.toFixed(0)} ms`);
      } catch (e) {
        fail('bare session.run (native)', e);
      }
      // The app's chunking (cross-fades, speaker alignment, copies) around a model that costs nothing.
      try {
        const lib = await import(path.resolve('bench/.cache/node/node-entry.mjs'));
        const n = 600 * 16000;
        const x = new Float32Array(n).map((_, i) => Math.sin(i * 0.01));
        const sep = new lib.ChunkedSeparator(async (w) => [w.slice(), w.slice(), w.slice()], { chunkSeconds: 8, overlapSeconds: 1, sampleRate: 16000, kinds: ['speaker', 'speaker', 'background'], minWindowSamples: 1600 });
        const c0 = performance.now();
        for (let at = 0; at < n; at += lib.CHUNK_SAMPLES) await sep.push(x.slice(at, at + lib.CHUNK_SAMPLES));
        await sep.finish();
        results.chunkingOverhead.node = { seconds: 600, ms: performance.now() - c0 };
      } catch (e) {
        fail('chunking overhead (node)', e);
      }
    }
    save();
  }

  // ------------------------------------------------------------ web (bench page)
  if (only.has('web')) {
    let preview;
    let browser;
    try {
      log('building the bench page (bench/vite.config.ts) …');
      viteBuild(['--config', 'bench/vite.config.ts'], 'bench page');
      preview = await startPreview({ port: BENCH_PORT, args: ['--config', 'bench/vite.config.ts'], host: 'localhost', probePath: '/bench/web/index.html' });
      browser = await launch();
      const page = await openBenchPage(browser, preview.url, log);
      results.browser = await pageInfo(page);
      results.sha256 = await sha256Web(page);
      log(`SubtleCrypto SHA-256 of the model (${(results.sha256.bytes / 1e6).toFixed(2)} MB): median ${results.sha256.medianMs.toFixed(1)} ms (first ${results.sha256.firstMs.toFixed(1)} ms)`);
      results.chunkingOverhead.web = await chunkingWeb(page, 600);
      results.ffmpegProfile = [];
      for (const [kind, core] of [['audio', 'mt'], ['audio', 'st'], ['video', 'mt']]) {
        const res = await ffmpegProfileWeb(page, { file: inputs[0][kind], core });
        if (!res.ok && res.error) fail(`ffmpeg.wasm profile ${kind} ${core}`, res.error);
        else {
          results.ffmpegProfile.push({ kind, minutes: inputs[0].minutes, ...res });
          const f = (p) => `app command ${p.app.toFixed(0)}, read+demux ${p.demux.toFixed(0)}, decode to null ${p.nullout.toFixed(0)}, from MEMFS ${p.memfs.toFixed(0)} (to null ${p.memfsNull.toFixed(0)}) ms`;
          log(`ffmpeg.wasm profile ${kind} core-${core}: cold ${f(res.cold)}; warm ${f(res.warm)}`);
        }
        save();
      }
      for (const inp of inputs) {
        for (const kind of ['audio', 'video']) {
          const runs = [];
          for (let r = 0; r < repeatsFor(inp.minutes); r++) {
            const res = await decodeWeb(page, { file: inp[kind] });
            if (!res.ok) fail(`ffmpeg.wasm ${kind} ${inp.minutes} min`, res.error);
            else runs.push({ ...res, loadAverage1m: loadAverage().one });
          }
          const decodeMs = median(runs.map((r) => r.decodeMs));
          results.decode.push({ engine: 'ffmpeg.wasm (decode worker)', kind, minutes: inp.minutes, seconds: inp.seconds, file: path.basename(inp[kind]), bytes: inp.bytes[kind], core: runs[0]?.core ?? null, runs: runs.map(slimDecode), decodeMs, cpuMs: median(runs.map((r) => r.process?.cpuMs)), rtf: decodeMs === null ? null : decodeMs / 1000 / inp.seconds, probeMs: median(runs.map((r) => r.probeMs)), engineLoadMs: median(runs.map((r) => r.engineMs)), peakMemMiB: max(runs.map((r) => r.process?.growthPssMiB)) });
          log(`ffmpeg.wasm ${kind} ${inp.minutes} min: ${round(decodeMs, 0)} ms (core ${runs[0]?.core})`);
          save();
        }
        for (const threads of [...new Set([1, threadsAll])]) {
          const runs = [];
          for (let r = 0; r < repeatsFor(inp.minutes); r++) {
            const load = loadAverage().one;
            const res = await separateWeb(page, { pcm: inp.pcm, ref: existsSync(refOf(inp.minutes)) ? refOf(inp.minutes) : null, backend: 'wasm', threads });
            if (!res.ok) fail(`ORT-web wasm ${threads}t ${inp.minutes} min`, res.error);
            else {
              runs.push({ ...res, loadAverage1m: load });
              log(`ORT-web wasm ${res.threads}t ${inp.minutes} min: ${(res.separateMs / 1000).toFixed(2)} s, RTF ${res.rtf.toFixed(4)}, agreement with native ${res.agreementDb?.map((d) => d.toFixed(0)).join('/')} dB (load ${load})`);
            }
          }
          results.separation.push(summariseSeparation('onnxruntime-web', 'wasm', threads, inp, runs));
          save();
        }
      }
      try {
        const raw = await rawOrtWeb(browser, preview.url, { pcm: inputs[0].pcm, windows: 8, log });
        results.rawSessionRun = { ...(results.rawSessionRun ?? {}), web1t: raw };
        log(`bare session.run, 8 s window, ORT-web WASM 1 thread (page main thread): median ${raw.medianMs.toFixed(0)} ms`);
        // A/B of the app's choice (sessionOptionsFor): with QDQ handling on, ORT fuses each DequantizeLinear + MatMul
        // into MatMulNBits; the app turns it off so the int8 weights are dequantized once at load and MatMuls run in float32.
        const qdq = await rawOrtWeb(browser, preview.url, { pcm: inputs[0].pcm, windows: 8, log, sessionConfig: { 'session.disable_quant_qdq': '0' } });
        results.rawSessionRun.web1tQdqFused = qdq;
        log(`bare session.run, same, with ORT's QDQ fusion (MatMulNBits; the app turns it off): median ${qdq.medianMs.toFixed(0)} ms`);
      } catch (e) {
        fail('bare session.run (web)', e);
      }
      await browser.close();
      browser = null;
    } catch (e) {
      fail('web benchmarks', e);
    } finally {
      await browser?.close().catch(() => {});
      preview?.stop();
    }
    save();
  }

  // ------------------------------------------------------------ WebGPU (software adapter here: correctness only)
  if (only.has('webgpu')) {
    let preview;
    try {
      if (!only.has('web')) viteBuild(['--config', 'bench/vite.config.ts'], 'bench page');
      preview = await startPreview({ port: BENCH_PORT, args: ['--config', 'bench/vite.config.ts'], host: 'localhost', probePath: '/bench/web/index.html' });
      log(`WebGPU (headless Chromium, --enable-unsafe-webgpu; software adapter): first ${webgpuSeconds} s of the ${inputs[0].minutes}-min input …`);
      const g = await webgpuCase(preview.url, { pcm: inputs[0].pcm, ref: existsSync(refOf(inputs[0].minutes)) ? refOf(inputs[0].minutes) : null, maxSeconds: webgpuSeconds, log });
      const row = summariseSeparation('onnxruntime-web', 'webgpu', null, { ...inputs[0], seconds: Math.min(inputs[0].seconds, webgpuSeconds) }, g.ok ? [g] : []);
      row.adapter = g.adapter ?? null;
      row.note = 'Software adapter (SwiftShader): a correctness check of the WebGPU path, not a speed figure.';
      if (!g.ok) row.error = `${g.stage ?? ''} ${g.error}`.trim();
      results.separation.push(row);
      log(g.ok ? `WebGPU: RTF ${g.rtf.toFixed(3)}, agreement ${g.agreementDb?.map((d) => d.toFixed(0)).join('/')} dB` : `WebGPU failed: ${row.error}`);
    } catch (e) {
      fail('WebGPU', e);
    } finally {
      preview?.stop();
    }
    save();
  }

  // ------------------------------------------------------------ window length (chunk size by measurement)
  if (value('chunk-sweep')) {
    const inp = inputs[inputs.length - 1];
    if (!only.has('native') && !only.has('web')) await buildNodeLib();
    results.chunkSweep = [];
    for (const sec of value('chunk-sweep').split(',').map(Number)) {
      try {
        const r = ortNative({ pcm: inp.pcm, threads: 1, chunkSeconds: sec });
        results.chunkSweep.push({ chunkSeconds: sec, minutes: inp.minutes, separateMs: r.separateMs, modelMs: r.modelMs, rtf: r.separateMs / 1000 / inp.seconds, peakRssMiB: r.peakRssMiB, baselineRssMiB: r.baselineRssMiB, windows: r.windows });
        log(`window ${sec} s, ${inp.minutes} min, native 1 thread: ${(r.separateMs / 1000).toFixed(2)} s (RTF ${(r.separateMs / 1000 / inp.seconds).toFixed(4)}), ${r.windows} windows, peak RSS ${r.peakRssMiB.toFixed(0)} MiB`);
      } catch (e) {
        fail(`chunk sweep ${sec} s`, e);
      }
    }
    save();
  }

  // ------------------------------------------------------------ the real app
  if (only.has('app')) {
    try {
      const pipelineInputs = [
        ...inputs.flatMap((inp) => [
          { kind: 'audio', minutes: inp.minutes, seconds: inp.seconds, file: inp.audio },
          { kind: 'video', minutes: inp.minutes, seconds: inp.seconds, file: inp.video },
        ]).filter((i) => appKinds.includes(i.kind)),
        ...appOnlyInputs.map((inp) => ({ kind: 'audio', minutes: inp.minutes, seconds: inp.seconds, file: inp.audio })),
      ];
      results.app = await appBenchmarks({ pipelineInputs, coldInput: coldInput(), log, thinkMs: Number(value('think-ms') ?? 0), threadSettings: appThreads });
    } catch (e) {
      fail('app benchmarks', e);
    }
    save();
  }

  derive();
  results.machine.loadAverageAtEnd = loadAverage();
  results.finishedAt = new Date().toISOString();
  results.durationS = Math.round((Date.now() - t0) / 1000);
  save();
  printTable();
  log(`wrote ${path.relative(process.cwd(), RESULTS)}`);
}

function slimDecode(r) {
  const { memory, process: proc, ...rest } = r;
  return { ...rest, cpuMs: proc?.cpuMs ?? null, peakPssGrowthMiB: proc?.growthPssMiB ?? null, uaMemoryPeakBytes: memory?.peakBytes ?? null, uaMemoryPeakDedupedBytes: memory?.peakDedupedBytes ?? null, pssSeriesMiB: proc?.pssSeriesMiB ?? null };
}

function summariseSeparation(engine, backend, threads, inp, runs) {
  const sep = median(runs.map((r) => r.separateMs));
  const first = runs[0] ?? {};
  return {
    engine,
    backend,
    threads: threads ?? first.threads ?? null,
    minutes: inp.minutes,
    seconds: inp.seconds,
    runs: runs.map((r) => ({ separateMs: r.separateMs, rtf: r.rtf, baselineRssMiB: r.baselineRssMiB ?? r.process?.baselinePssMiB ?? null, cpuMs: r.cpuMs ?? r.process?.cpuMs ?? null, loadMs: r.loadMs ?? null, sessionMs: r.sessionMs ?? null, verifyMs: r.verifyMs ?? null, modelMs: r.modelMs ?? null, agreementDb: r.agreementDb ?? null, loadAverage1m: r.loadAverage1m ?? null, peakMiB: r.peakRssMiB ?? r.process?.growthPssMiB ?? null, uaMemoryPeakBytes: r.memory?.peakBytes ?? null, uaMemoryPeakDedupedBytes: r.memory?.peakDedupedBytes ?? null, uaMemoryByScope: r.memory?.peakByScope ?? null, pssSeriesMiB: r.process?.pssSeriesMiB ?? null })),
    separateMs: sep,
    rtf: sep === null ? null : sep / 1000 / inp.seconds,
    // CPU time (all threads, user + system) per second of audio: less sensitive than wall time to other jobs on a shared machine.
    cpuRtf: median(runs.map((r) => (r.cpuMs ?? r.process?.cpuMs ?? NaN) / 1000 / inp.seconds)),
    cpuKind: engine === 'onnxruntime-node' ? 'process.cpuUsage() over the separation' : 'CPU time of the whole browser process tree over the separation',
    loadMs: median(runs.map((r) => r.loadMs ?? (r.sessionMs ?? 0) + (r.verifyMs ?? 0) + (r.warmUpMs ?? 0))),
    verifyMs: median(runs.map((r) => r.verifyMs)),
    // Native: the process's peak RSS (VmHWM). Web: growth of the browser's summed PSS over the run, and the page's own measurement.
    // What the run adds: native, the process's peak RSS over its RSS before the model loaded (Node + ORT imported);
    // web, the growth of the browser's summed PSS from before load() to the peak.
    peakMemMiB: engine === 'onnxruntime-node' ? max(runs.map((r) => r.peakRssMiB - r.baselineRssMiB)) : max(runs.map((r) => r.process?.growthPssMiB)),
    peakMemKind: engine === 'onnxruntime-node' ? 'process RSS growth: VmHWM − VmRSS before loading the model' : 'browser process tree PSS growth, before load() → peak',
    peakRssMiB: engine === 'onnxruntime-node' ? max(runs.map((r) => r.peakRssMiB)) : max(runs.map((r) => r.process?.peakPssMiB)),
    // measureUserAgentSpecificMemory (page + workers, shared memories counted once): JS heaps + ArrayBuffers + wasm memories.
    uaMemoryPeakMiB: engine === 'onnxruntime-node' ? null : (max(runs.map((r) => r.memory?.peakDedupedBytes)) ?? 0) / 1048576 || null,
    agreementDb: first.agreementDb ?? null,
    error: runs.length ? undefined : 'no successful run',
  };
}

function derive() {
  const sepRow = (engine, backend, threads, m) => results.separation.find((r) => r.engine === engine && r.backend === backend && r.threads === threads && r.minutes === m && r.rtf !== null);
  const cores = results.machine.cores;
  for (const m of minutesList) {
    const n1 = sepRow('onnxruntime-node', 'cpu', 1, m);
    const nA = sepRow('onnxruntime-node', 'cpu', cores, m);
    const w1 = sepRow('onnxruntime-web', 'wasm', 1, m);
    const wA = results.separation.find((r) => r.engine === 'onnxruntime-web' && r.backend === 'wasm' && r.minutes === m && r.threads === cores && r.rtf !== null);
    const best = [n1, nA].filter(Boolean).sort((a, b) => a.separateMs - b.separateMs)[0];
    const wBest = [w1, wA].filter(Boolean).sort((a, b) => a.separateMs - b.separateMs)[0];
    results.ratios[`${m}min`] = {
      wasm1_over_native1: n1 && w1 ? w1.separateMs / n1.separateMs : null,
      wasmAll_over_nativeAll: nA && wA ? wA.separateMs / nA.separateMs : null,
      wasmAll_over_nativeBest: best && wA ? wA.separateMs / best.separateMs : null,
      wasmBest_over_nativeBest: best && wBest ? wBest.separateMs / best.separateMs : null,
      cpu_wasm1_over_native1: n1?.cpuRtf && w1?.cpuRtf ? w1.cpuRtf / n1.cpuRtf : null,
      bareSessionRun_web1_over_native1: results.rawSessionRun?.web1t && results.rawSessionRun?.native1t ? results.rawSessionRun.web1t.medianMs / results.rawSessionRun.native1t.medianMs : null,
      bareSessionRunMin_web1_over_native1: results.rawSessionRun?.web1t && results.rawSessionRun?.native1t ? results.rawSessionRun.web1t.minMs / results.rawSessionRun.native1t.minMs : null,
      decodeAudio_wasm_over_native: ratioDecode('audio', m),
      decodeVideo_wasm_over_native: ratioDecode('video', m),
    };
  }
  // Growth with input length: time should scale with length (×10 from 1 to 10 min), memory should not.
  const lengths = minutesList.slice().sort((a, b) => a - b);
  if (lengths.length > 1) {
    const [a, ...rest] = lengths;
    const grow = (get) =>
      Object.fromEntries(
        rest.map((b) => {
          const va = get(a);
          const vb = get(b);
          return [`${b}min_over_${a}min`, va && vb ? round(vb / va, 2) : null];
        }),
      );
    const sepGet = (engine, backend, threads, key) => (m) => sepRow(engine, backend, threads, m)?.[key];
    const decGet = (engine, kind, key) => (m) => results.decode.find((d) => d.engine.startsWith(engine) && d.kind === kind && d.minutes === m)?.[key];
    const appGet = (kind, key) => (m) => {
      const r = results.app?.pipeline?.find((p) => p.ok && isDefaultThreads(p) && p.kind === kind && p.minutes === m);
      return key === 'mem' ? r?.processMemory?.growthPssMiB : r?.[key];
    };
    results.scaling = {
      note: `time ratios should be close to the length ratio (${rest.map((b) => b / a).join(', ')}); memory ratios close to 1 (flat)`,
      'native ORT 1t time': grow(sepGet('onnxruntime-node', 'cpu', 1, 'separateMs')),
      'native ORT 1t peak RSS': grow(sepGet('onnxruntime-node', 'cpu', 1, 'peakMemMiB')),
      'ORT-web wasm 1t time': grow(sepGet('onnxruntime-web', 'wasm', 1, 'separateMs')),
      'ORT-web wasm 1t memory growth': grow(sepGet('onnxruntime-web', 'wasm', 1, 'peakMemMiB')),
      [`ORT-web wasm ${cores}t time`]: grow(sepGet('onnxruntime-web', 'wasm', cores, 'separateMs')),
      'ffmpeg.wasm audio time': grow(decGet('ffmpeg.wasm', 'audio', 'decodeMs')),
      'ffmpeg.wasm audio memory growth': grow(decGet('ffmpeg.wasm', 'audio', 'peakMemMiB')),
      'ffmpeg.wasm video time': grow(decGet('ffmpeg.wasm', 'video', 'decodeMs')),
      'app pipeline audio time': grow(appGet('audio', 'pipelineMs')),
      'app pipeline audio memory growth': grow(appGet('audio', 'mem')),
      'app pipeline video time': grow(appGet('video', 'pipelineMs')),
      'app pipeline video memory growth': grow(appGet('video', 'mem')),
    };
  }
  const t = (name, value, target, met, note) => results.targets.push({ name, value: round(value, 3), target, met, note });
  const longest = Math.max(...minutesList);
  const r = results.ratios[`${longest}min`] ?? {};
  if (r.wasmAll_over_nativeAll != null) t(`WASM ${cores} threads / native ${cores} threads (${longest} min)`, r.wasmAll_over_nativeAll, '≤ 1.5', r.wasmAll_over_nativeAll <= 1.5);
  if (r.wasmBest_over_nativeBest != null) t(`best WASM / best native (${longest} min)`, r.wasmBest_over_nativeBest, '≤ 1.5', r.wasmBest_over_nativeBest <= 1.5);
  if (results.sha256) t('SubtleCrypto SHA-256 of the model (median, main thread)', results.sha256.medianMs, '< 50 ms', results.sha256.medianMs < 50);
  const app10 = results.app?.pipeline?.find((p) => p.ok && isDefaultThreads(p) && p.kind === 'audio' && p.minutes === 10);
  if (app10) t('whole pipeline RTF, 10 min 2-speaker audio, app UI', app10.rtf, '≤ 0.1', app10.rtf <= 0.1);
  for (const p of results.app?.pipeline ?? []) {
    if (p.ok && isDefaultThreads(p) && p.minutes >= 60) t(`tab memory, ${p.minutes}-min ${p.kind === 'video' ? '1080p video' : 'audio'}: peak PSS of the renderer (page + workers: JS + wasm + everything else) (MiB)`, p.processMemory.peakLargestProcessPssMiB, '≤ 1024 MiB', p.processMemory.peakLargestProcessPssMiB <= 1024);
  }
  if (results.app?.transfer) {
    t('first-visit transfer, as served (MB)', results.app.transfer.wireBytes / 1e6, '≤ 30 MB compressed', results.app.transfer.wireBytes <= 30e6);
    t('first-visit transfer if every file were brotli-compressed (MB, estimate)', results.app.transfer.uniqueBrotli9Bytes / 1e6, '≤ 30 MB compressed', results.app.transfer.uniqueBrotli9Bytes <= 30e6);
  }
}

function ratioDecode(kind, m) {
  const n = results.decode.find((d) => d.engine === 'ffmpeg (native)' && d.kind === kind && d.minutes === m);
  const w = results.decode.find((d) => d.engine.startsWith('ffmpeg.wasm') && d.kind === kind && d.minutes === m);
  return n?.decodeMs && w?.decodeMs ? w.decodeMs / n.decodeMs : null;
}

// ---------------------------------------------------------------- table
function printTable() {
  const cols = minutesList.map((m) => `${m} min`);
  const fmt = (x, d = 3) => (x === null || x === undefined || Number.isNaN(x) ? '—' : typeof x === 'number' ? x.toFixed(d) : String(x));
  const line = (label, cells, extra = '') => console.log(`${label.padEnd(44)}${cells.map((c) => c.padStart(14)).join('')}  ${extra}`);
  const hr = () => console.log('-'.repeat(44 + 14 * cols.length + 30));
  const m = results.machine;
  console.log('');
  console.log(`VoxSplit benchmark — ${results.git.commit?.slice(0, 10)} — ${m.cpuModel}, ${m.cores} cores, load average at start ${m.loadAverageAtStart.one} (end ${m.loadAverageAtEnd?.one ?? '?'})`);
  hr();
  line('SEPARATION  (RTF = time / audio length)', cols, 'CPU-time RTF | peak memory MiB');
  const cases = [];
  for (const r of results.separation) {
    const key = `${r.engine}|${r.backend}|${r.threads}`;
    if (!cases.includes(key)) cases.push(key);
  }
  for (const key of cases) {
    const [engine, backend, threads] = key.split('|');
    const rows = minutesList.map((mm) => results.separation.find((r) => `${r.engine}|${r.backend}|${r.threads}` === key && r.minutes === mm));
    const label = engine === 'onnxruntime-node' ? `native ORT (node), ${threads} thread${threads === '1' ? '' : 's'}` : backend === 'webgpu' ? 'ORT-web WebGPU (SwiftShader: correctness)' : `ORT-web WASM, ${threads} thread${threads === '1' ? '' : 's'}`;
    const anyErr = rows.find((r) => r?.error)?.error;
    line(label, rows.map((r) => (r ? fmt(r.rtf, 4) : '')), anyErr ? `ERROR ${anyErr.slice(0, 140)}` : `cpu-s/s ${rows.map((r) => (r ? fmt(r.cpuRtf, 3) : '')).join(' / ')}  mem ${rows.map((r) => (r ? fmt(r.peakMemMiB, 0) : '')).join(' / ')}` + (rows[0]?.agreementDb ? `   agreement vs native ${rows[0].agreementDb.map((d) => fmt(d, 0)).join('/')} dB` : ''));
  }
  line('ratio web/native, 1 thread', minutesList.map((mm) => fmt(results.ratios[`${mm}min`]?.wasm1_over_native1, 2)), `CPU-time ratio ${minutesList.map((mm) => fmt(results.ratios[`${mm}min`]?.cpu_wasm1_over_native1, 2)).join(' / ')}`);
  line(`ratio web/native, ${m.cores} threads (target ≤ 1.5)`, minutesList.map((mm) => fmt(results.ratios[`${mm}min`]?.wasmAll_over_nativeAll, 2)));
  line('ratio best web / best native', minutesList.map((mm) => fmt(results.ratios[`${mm}min`]?.wasmBest_over_nativeBest, 2)));
  hr();
  line('DECODE to 16 kHz mono f32 (seconds)', cols, 'CPU s | peak memory MiB');
  for (const engine of ['ffmpeg (native)', 'ffmpeg.wasm (decode worker)']) {
    for (const kind of ['audio', 'video']) {
      const rows = minutesList.map((mm) => results.decode.find((d) => d.engine === engine && d.kind === kind && d.minutes === mm));
      if (!rows.some(Boolean)) continue;
      line(`${engine.replace(' (decode worker)', '')} ${kind === 'audio' ? 'm4a' : '1080p mp4'}${rows[0]?.core ? ` [core-${rows[0].core}]` : ''}`, rows.map((d) => (d ? fmt(d.decodeMs / 1000, 2) : '')), `${rows.map((d) => (d ? fmt(d.cpuMs / 1000, 2) : '')).join(' / ')} | ${rows.map((d) => (d ? fmt(d.peakMemMiB, 0) : '')).join(' / ')}`);
    }
  }
  line('ratio wasm/native, audio', minutesList.map((mm) => fmt(results.ratios[`${mm}min`]?.decodeAudio_wasm_over_native, 2)));
  line('ratio wasm/native, video', minutesList.map((mm) => fmt(results.ratios[`${mm}min`]?.decodeVideo_wasm_over_native, 2)));
  hr();
  if (results.app) {
    const a = results.app;
    line('APP (real UI, default settings)', cols, 'peak PSS growth MiB');
    const settings = [...new Set(a.pipeline.map(threadsOf))].sort((x, y) => (x === 'auto' ? -1 : y === 'auto' ? 1 : Number(x) - Number(y)));
    for (const setting of settings) {
      for (const kind of ['audio', 'video']) {
        const rows = minutesList.map((mm) => a.pipeline.find((p) => threadsOf(p) === setting && p.kind === kind && p.minutes === mm));
        if (!rows.some(Boolean)) continue;
        const label = setting === 'auto' ? `whole pipeline RTF, ${kind}` : `  … ${kind}, ${setting} WASM thread${setting === '1' ? '' : 's'} (setting)`;
        line(label, rows.map((p) => (p?.ok ? fmt(p.rtf, 3) : p ? 'failed' : '')), rows.map((p) => (p?.ok ? fmt(p.processMemory?.growthPssMiB, 0) : '')).join(' / '));
      }
    }
    const long = a.pipeline.filter((p) => p.ok && p.minutes >= 60);
    if (long.length) {
      console.log('long media (app UI): minutes · RTF · JS peak (page + workers) · renderer peak PSS · whole browser peak PSS · export of one track · ETA error at 25/50/75 %');
      for (const p of long) {
        const eta = (at) => p.etaAccuracy?.summary?.find((e) => e.atPercent >= at)?.errorPercent;
        console.log(`  ${p.kind} ${p.minutes} min · ${fmt(p.rtf, 3)} · ${fmt(p.memory.jsPeakBytes / 1048576, 0)} MiB · ${fmt(p.processMemory.peakLargestProcessPssMiB, 0)} MiB · ${fmt(p.processMemory.peakPssMiB, 0)} MiB · ${fmt(p.export.bytes / 1e6, 0)} MB in ${fmt(p.export.ms / 1000, 1)} s · ${[25, 50, 75].map((x) => `${fmt(eta(x), 1)} %`).join(' / ')}`);
      }
    }
    if (a.cancel) console.log(`cancel at ${a.cancel.atPercent} % of ${a.cancel.input}: UI ${a.cancel.cancelledMs} ms; renderer PSS ${fmt(a.cancel.before.rendererPssMiB, 0)} → ${a.cancel.after.rendererPssMiB} MiB (idle ${fmt(a.cancel.idle.rendererPssMiB, 0)}), back within 10 % of the rise after ${a.cancel.freedWithinMs ?? '> 10000'} ms; JS ${fmt(a.cancel.before.jsMiB, 0)} → ${a.cancel.after.jsMiB} MiB`);
    for (const p of a.pipeline.filter((p) => !p.ok)) console.log(`  app ${p.kind} ${p.minutes} min failed: ${String(p.error).slice(0, 200)}`);
    if (a.coldStart) console.log(`cold start (fresh profile): interactive ${fmt(a.coldStart.interactiveMs / 1000, 2)} s, first result (${a.coldStart.seconds / 60} min file) ${fmt(a.coldStart.firstResultMs / 1000, 1)} s`);
    if (a.transfer) console.log(`first-visit transfer: ${fmt(a.transfer.wireBytes / 1e6, 1)} MB on the wire (${a.transfer.requests} requests; server compressed ${a.transfer.compressedByServer.length} files); unique files ${fmt(a.transfer.uniqueRawBytes / 1e6, 1)} MB raw, ${fmt(a.transfer.uniqueGzip9Bytes / 1e6, 1)} MB gzip-9, ${fmt(a.transfer.uniqueBrotli9Bytes / 1e6, 1)} MB brotli-9`);
    if (a.offlineStart) console.log(`offline start (reload, network off): ${fmt(a.offlineStart.offlineStartMs / 1000, 2)} s to interactive`);
    hr();
  }
  if (results.chunkSweep?.length) console.log(`window length sweep (native ORT, 1 thread, ${results.chunkSweep[0].minutes} min): ${results.chunkSweep.map((c) => `${c.chunkSeconds} s → ${fmt(c.separateMs / 1000, 2)} s / ${fmt(c.peakRssMiB, 0)} MiB`).join(', ')}`);
  const rs = results.rawSessionRun;
  if (rs?.native1t && rs?.web1t) console.log(`bare session.run on one 8 s window, 1 thread: native median ${fmt(rs.native1t.medianMs, 0)} / min ${fmt(rs.native1t.minMs, 0)} ms, ORT-web median ${fmt(rs.web1t.medianMs, 0)} / min ${fmt(rs.web1t.minMs, 0)} ms → ratio ${fmt(rs.web1t.medianMs / rs.native1t.medianMs, 2)} (median), ${fmt(rs.web1t.minMs / rs.native1t.minMs, 2)} (min: least disturbed by other jobs); the engine alone, no app code around it`);
  if (results.sha256) console.log(`SubtleCrypto SHA-256 of the ${fmt(results.sha256.bytes / 1e6, 2)} MB model: median ${fmt(results.sha256.medianMs, 1)} ms (first ${fmt(results.sha256.firstMs, 1)} ms) — target < 50 ms`);
  if (results.profile) console.log(`where the model's time goes (ORT profile): ${results.profile.byStage.slice(0, 4).map((s) => `${s.name.split(' (')[0]} ${s.share}%`).join(', ')}`);
  for (const tg of results.targets) console.log(`target: ${tg.name}: ${fmt(tg.value, 3)} (${tg.target}) → ${tg.met ? 'met' : 'NOT met'}`);
  if (results.errors.length) console.log(`errors (${results.errors.length}):\n  ${results.errors.map((e) => e.slice(0, 300)).join('\n  ')}`);
  console.log('');
}

main()
  .catch((e) => {
    fail('benchmark', e);
    save();
  })
  .finally(() => {
    cleanup();
    // Playwright or a stray socket must not keep the command alive once the results are written.
    process.exit(existsSync(RESULTS) ? 0 : 1);
  });

/** Native baselines: onnxruntime-node (each run its own process) and Debian's ffmpeg, plus ORT profile analysis. */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';

const CACHE = path.resolve('bench/.cache');

export function ortNative(opts) {
  const r = spawnSync(process.execPath, ['bench/lib/native-ort.mjs', JSON.stringify(opts)], { encoding: 'utf8', maxBuffer: 64 << 20, timeout: 30 * 60_000 });
  if (r.status !== 0) throw new Error(`native ORT run failed (${r.status ?? r.signal}): ${r.stderr.slice(-2000)}`);
  return JSON.parse(r.stdout.trim().split('\n').pop());
}

/** The app's decode command line (src/features/decode/worker.ts), run by Debian's ffmpeg. */
export function ffmpegArgs(input, out, container) {
  const inputOptions = container === 'wav' ? ['-max_size', String(1 << 20)] : [];
  return ['-y', '-v', 'error', ...inputOptions, '-i', input, '-map', '0:a:0', '-vn', '-sn', '-dn', '-ac', '1', '-ar', '16000', '-c:a', 'pcm_f32le', '-f', 'f32le', out];
}

export function ffmpegNative(input, { threads } = {}) {
  mkdirSync(CACHE, { recursive: true });
  const out = path.join(CACHE, 'native-decoded.f32');
  const args = ffmpegArgs(input, out, path.extname(input).slice(1));
  if (threads) args.splice(1, 0, '-threads', String(threads));
  const t0 = performance.now();
  // GNU time: %M = peak RSS (KiB), %U/%S = user/system CPU seconds.
  const r = spawnSync('/usr/bin/time', ['-f', '@@%M %U %S', 'ffmpeg', ...args], { encoding: 'utf8' });
  const wallMs = performance.now() - t0;
  if (r.status !== 0) throw new Error(`ffmpeg failed: ${r.stderr.slice(-1000)}`);
  const [maxRssKb, user, sys] = /@@(\d+) ([\d.]+) ([\d.]+)/.exec(r.stderr).slice(1).map(Number);
  const bytes = Number(readFileSync(out).byteLength);
  rmSync(out, { force: true });
  return { wallMs, cpuMs: (user + sys) * 1000, peakRssMiB: maxRssKb / 1024, samples: bytes / 4 };
}

export function versions() {
  const first = (cmd, args) => {
    try {
      return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).split('\n')[0].trim();
    } catch {
      return null;
    }
  };
  const pkg = (name) => {
    try {
      return JSON.parse(readFileSync(`node_modules/${name}/package.json`, 'utf8')).version;
    } catch {
      return null;
    }
  };
  return {
    node: process.version,
    chromium: first('/usr/bin/chromium', ['--version']),
    ffmpeg: first('ffmpeg', ['-version']),
    onnxruntimeNode: pkg('onnxruntime-node'),
    onnxruntimeWeb: pkg('onnxruntime-web'),
    ffmpegWasm: `@ffmpeg/ffmpeg ${pkg('@ffmpeg/ffmpeg')}, @ffmpeg/core ${pkg('@ffmpeg/core')}, @ffmpeg/core-mt ${pkg('@ffmpeg/core-mt')}`,
    playwright: pkg('@playwright/test'),
    vite: pkg('vite'),
  };
}

/**
 * Which part of the model a node belongs to, from its name and op type (see training/ for the
 * architecture; works for both the learned-encoder 0.1.0 export and the STFT front end of voxsplit-dptnet/2).
 */
function stageOf(name, op) {
  const m = /^\/(intra|inter)\.(\d+)\/(.*)$/.exec(name);
  if (m) {
    const [, kind, , rest] = m;
    const part = /^qkv|^proj/.test(rest) ? 'projections' : /^ffn/.test(rest) ? 'ffn' : /^ln\d/.test(rest) ? 'norms' : 'attention core (scores, softmax, window gather/shift)';
    return { stage: kind === 'intra' ? 'intra-chunk attention blocks' : 'inter-chunk attention blocks', part: `${kind}: ${part}` };
  }
  const root = !name.slice(1).includes('/');
  if (/^\/encoder\/|^encoder\./.test(name) || (root && ['Conv', 'FusedConv', 'Sqrt', 'Log', 'Pow'].includes(op))) return { stage: 'front end (STFT / encoder conv, magnitude)', part: 'front end' };
  if (/^\/decoder\/|^decoder\./.test(name) || (root && op === 'ConvTranspose')) return { stage: 'synthesis (inverse STFT / decoder: transposed conv)', part: 'synthesis' };
  if (/^\/mask\//.test(name) || (root && ['Sigmoid', 'Relu'].includes(op))) return { stage: 'mask estimation', part: 'mask' };
  if (/^\/(in_norm|in_proj|out_norm)\//.test(name)) return { stage: 'in/out projections + norms', part: 'in/out' };
  return { stage: 'layout + elementwise glue (pad, split, reshape, transpose, masking multiply)', part: 'glue' };
}

/** Breaks an onnxruntime profile (Chrome trace JSON) down by op type and by model stage. */
export function analyseProfile(file) {
  const events = JSON.parse(readFileSync(file, 'utf8'));
  const kernels = events.filter((e) => e.cat === 'Node' && e.name.endsWith('_kernel_time'));
  const runs = events.filter((e) => e.cat === 'Session' && e.name === 'model_run');
  const totalUs = kernels.reduce((s, e) => s + e.dur, 0);
  const group = (key) => {
    const g = new Map();
    for (const e of kernels) {
      const k = key(e);
      g.set(k, (g.get(k) ?? 0) + e.dur);
    }
    return [...g.entries()]
      .sort((a, b) => b[1] - a[1])
      .map(([k, us]) => ({ name: k, ms: Math.round(us / 10) / 100, share: Math.round((us / totalUs) * 1000) / 10 }));
  };
  const node = (e) => e.name.replace(/_kernel_time$/, '');
  return {
    runs: runs.length,
    runMs: Math.round(runs.reduce((s, e) => s + e.dur, 0) / 1000),
    kernelMs: Math.round(totalUs / 1000),
    byOpType: group((e) => e.args?.op_name ?? '?').slice(0, 15),
    byStage: group((e) => stageOf(node(e), e.args?.op_name).stage),
    byPart: group((e) => stageOf(node(e), e.args?.op_name).part).slice(0, 12),
  };
}

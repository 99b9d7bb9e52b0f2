/**
 * The real app, built with its own config (vite.config.ts, service worker
 * included) into bench/.app-dist and driven through its UI (data-testid hooks):
 * cold start to first result, first-visit transfer, offline start, and the
 * whole pipeline (decode → separate → finish) on generated files.
 */
import { createHash } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, readSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { browserPid, launchPersistent, withTimeout } from './browser.mjs';
import { attachMemory } from '../../e2e/support/js-memory.mjs';
import { treeMemory, treeSampler } from './proc.mjs';
import { startCountingProxy, startPreview, viteBuild } from './servers.mjs';

export const APP_PORT = 4273;
export const PROXY_PORT = 4272;
const APP_DIST = 'bench/.app-dist';
const COMPRESS_CACHE = path.resolve('bench/.cache/compress.json');

export function buildApp() {
  return viteBuild(['--outDir', APP_DIST, '--emptyOutDir'], 'app');
}

/** gzip -9 and brotli (quality 9; quality 11 would be a few % smaller and takes minutes) sizes of a built file, cached by content hash. */
function compressedSizes(file, cache) {
  const bytes = readFileSync(file);
  const key = createHash('sha1').update(bytes).digest('hex');
  if (!cache[key]) {
    cache[key] = {
      raw: bytes.length,
      gzip: zlib.gzipSync(bytes, { level: 9 }).length,
      brotli: zlib.brotliCompressSync(bytes, { params: { [zlib.constants.BROTLI_PARAM_QUALITY]: 9, [zlib.constants.BROTLI_PARAM_SIZE_HINT]: bytes.length } }).length,
    };
  }
  return cache[key];
}

function kindOf(p) {
  if (/ffmpeg-core.*\.wasm$/.test(p)) return 'ffmpeg wasm';
  if (/ort-wasm.*\.wasm$/.test(p)) return 'onnxruntime wasm';
  if (/\.onnx$/.test(p)) return 'model';
  if (/\.m?js$/.test(p)) return 'js';
  return 'other';
}

function summariseTransfer(log) {
  const cache = existsSync(COMPRESS_CACHE) ? JSON.parse(readFileSync(COMPRESS_CACHE, 'utf8')) : {};
  const byPath = new Map();
  for (const e of log) {
    const p = e.url.split('?')[0];
    const cur = byPath.get(p) ?? { path: p, requests: 0, wireBytes: 0, encodings: new Set(), statuses: new Set() };
    cur.requests++;
    cur.wireBytes += e.bodyBytes + e.headerBytes;
    cur.encodings.add(e.encoding ?? 'identity');
    cur.statuses.add(e.status);
    byPath.set(p, cur);
  }
  const files = [];
  let wire = 0;
  let raw = 0;
  let gzip = 0;
  let brotli = 0;
  let duplicateWire = 0;
  const byKind = {};
  for (const f of byPath.values()) {
    const local = path.join(APP_DIST, f.path === '/' ? 'index.html' : f.path.replace(/^\//, ''));
    const sizes = existsSync(local) && statSync(local).isFile() ? compressedSizes(local, cache) : null;
    const row = { path: f.path, kind: kindOf(f.path), requests: f.requests, wireBytes: f.wireBytes, encodings: [...f.encodings], statuses: [...f.statuses], raw: sizes?.raw ?? null, gzip: sizes?.gzip ?? null, brotli: sizes?.brotli ?? null };
    files.push(row);
    wire += f.wireBytes;
    if (f.requests > 1) duplicateWire += f.wireBytes - f.wireBytes / f.requests;
    if (sizes) {
      raw += sizes.raw;
      gzip += sizes.gzip;
      brotli += sizes.brotli;
    }
    const k = (byKind[row.kind] ??= { wireBytes: 0, raw: 0, brotli: 0, files: 0 });
    k.wireBytes += f.wireBytes;
    k.raw += sizes?.raw ?? 0;
    k.brotli += sizes?.brotli ?? 0;
    k.files++;
  }
  mkdirSync(path.dirname(COMPRESS_CACHE), { recursive: true });
  writeFileSync(COMPRESS_CACHE, JSON.stringify(cache));
  files.sort((a, b) => b.wireBytes - a.wireBytes);
  return {
    requests: log.length,
    uniqueFiles: files.length,
    wireBytes: wire,
    duplicateWireBytes: Math.round(duplicateWire),
    uniqueRawBytes: raw,
    uniqueGzip9Bytes: gzip,
    uniqueBrotli9Bytes: brotli,
    compressedByServer: files.filter((f) => f.encodings.some((e) => e !== 'identity')).map((f) => `${f.path} (${f.encodings.join(',')})`),
    byKind,
    largest: files.slice(0, 12),
  };
}

async function stageTimings(page) {
  const text = (await page.getByTestId('timings').textContent()) ?? '';
  const out = {};
  for (const m of text.matchAll(/(\w+) ([\d.]+) s/g)) out[m[1]] = Number(m[2]) * 1000;
  return out;
}

/** Runs `tick` every `everyMs` until the returned stop() is awaited (which waits for the tick in flight). */
function every(everyMs, tick) {
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      await tick();
      await new Promise((r) => setTimeout(r, everyMs));
    }
  })();
  return async () => {
    stopped = true;
    await loop;
  };
}

/** Polls the page's own memory figures while a run goes on (CDP metrics for the main thread; measureUserAgentSpecificMemory for page + workers). */
function pageMemoryPoller(page, cdp, everyMs = 5000) {
  const peak = { jsHeapUsedBytes: 0, uaMemoryBytes: 0, uaMemoryDedupedBytes: 0, uaMemoryError: null, samples: 0 };
  const stop = every(everyMs, async () => {
    try {
      const { metrics } = await cdp.send('Performance.getMetrics');
      const used = metrics.find((m) => m.name === 'JSHeapUsedSize')?.value ?? 0;
      peak.jsHeapUsedBytes = Math.max(peak.jsHeapUsedBytes, used);
      const ua = await withTimeout(
        page.evaluate(async () => {
          // eslint-disable-next-line no-undef
          if (!performance.measureUserAgentSpecificMemory) return null;
          // eslint-disable-next-line no-undef
          const m = await performance.measureUserAgentSpecificMemory();
          // A shared memory is attributed to every worker holding it: entries over 64 MiB within 1 % of each other count once (see bench/web/main.ts).
          let deduped = 0;
          const big = [];
          for (const e of m.breakdown) {
            if (e.bytes >= 64 * 1048576) big.push(e.bytes);
            else deduped += e.bytes;
          }
          big.sort((a, b) => b - a);
          let cluster = -1;
          for (const b of big) {
            if (cluster < 0 || b < cluster * 0.99) {
              cluster = b;
              deduped += b;
            }
          }
          return { bytes: m.bytes, deduped };
        }),
        30_000,
        'measureUserAgentSpecificMemory',
      );
      if (ua) {
        peak.uaMemoryBytes = Math.max(peak.uaMemoryBytes, ua.bytes);
        peak.uaMemoryDedupedBytes = Math.max(peak.uaMemoryDedupedBytes, ua.deduped);
      }
      peak.samples++;
    } catch (e) {
      peak.uaMemoryError = String(e.message ?? e).slice(0, 200);
    }
  });
  return {
    async stop() {
      await stop();
      return peak;
    },
  };
}

/**
 * How good the progress view's ETA is: every 5 s it reads the separate stage's "NN% · about M:SS left",
 * and at the end compares each prediction (sample time + ETA) with when the pipeline actually finished.
 */
function etaSampler(page, t0, everyMs = 5000) {
  const samples = [];
  const stopSampling = every(everyMs, async () => {
    const text = await page.locator('[data-testid=progress] li[data-stage=separate] .muted').textContent({ timeout: 1000 }).catch(() => null);
    const m = text && /^(\d+)%.*about (?:(\d+):)?(\d+):(\d+) left/.exec(text);
    if (m) samples.push({ atMs: Date.now() - t0, percent: Number(m[1]), etaMs: ((Number(m[2] ?? 0) * 60 + Number(m[3])) * 60 + Number(m[4])) * 1000 });
  });
  return {
    async stop(endMs) {
      await stopSampling();
      // Error of each predicted end relative to the whole run's length, at the first sample past each milestone.
      const summary = [];
      for (const at of [10, 25, 50, 75, 90]) {
        const s = samples.find((x) => x.percent >= at);
        if (s) summary.push({ atPercent: s.percent, predictedEndMs: s.atMs + s.etaMs, actualEndMs: endMs, errorPercent: Math.round(((s.atMs + s.etaMs - endMs) / endMs) * 1000) / 10 });
      }
      return { summary, samples: samples.length };
    },
  };
}

/**
 * Cancel on a long file: separate until `atPercent`, press Cancel, then follow the tab's renderer PSS and the
 * JS memory of page + workers for 10 s. The app terminates its workers on cancel, so their wasm memories go at once.
 */
/** The app's "WebAssembly threads" setting; it persists in the profile, so every run sets it. */
async function setThreads(page, threads) {
  await page.getByText('Settings').click();
  await page.getByTestId('threads-setting').selectOption(String(threads));
  await page.getByText('Settings').click();
}

async function cancelRun(context, url, input, log, atPercent = 30) {
  const page = await context.newPage();
  try {
    await page.goto(url);
    await page.getByTestId('file-input').waitFor({ state: 'attached', timeout: 60_000 });
    await setThreads(page, 'auto');
    await page.getByTestId('file-input').setInputFiles(input.file);
    await page.getByTestId('separate').waitFor({ state: 'visible', timeout: 5 * 60_000 });
    const { jsMemory } = await attachMemory(page);
    const root = browserPid();
    const renderer = () => treeMemory(root).largestPss / 1048576;
    const idle = { rendererPssMiB: renderer(), jsMiB: (await jsMemory()).total / 1048576 };
    await page.getByTestId('separate').click();
    const stage = page.locator('[data-testid=progress] li[data-stage=separate] .muted');
    const deadline = Date.now() + input.seconds * 1000;
    for (;;) {
      const m = /^(\d+)%/.exec((await stage.textContent({ timeout: 1000 }).catch(() => '')) ?? '');
      if (m && Number(m[1]) >= atPercent) break;
      if (Date.now() > deadline) throw new Error(`separation did not reach ${atPercent} %`);
      await new Promise((r) => setTimeout(r, 1000));
    }
    const before = { rendererPssMiB: renderer(), jsMiB: (await jsMemory()).total / 1048576 };
    const t0 = Date.now();
    await page.getByTestId('cancel').click();
    await page.getByTestId('cancelled').waitFor({ timeout: 10_000 });
    const cancelledMs = Date.now() - t0;
    const series = [];
    while (Date.now() - t0 < 10_000) {
      series.push({ ms: Date.now() - t0, rendererPssMiB: Math.round(renderer()), jsMiB: Math.round((await jsMemory()).total / 1048576) });
      await new Promise((r) => setTimeout(r, 500));
    }
    const after = series[series.length - 1];
    // Freed when the renderer is back within 10 % of the rise above its idle level.
    const freedAt = series.find((x) => x.rendererPssMiB <= idle.rendererPssMiB + 0.1 * Math.max(0, before.rendererPssMiB - idle.rendererPssMiB));
    const r = { input: path.basename(input.file), atPercent, idle, before, after, cancelledMs, freedWithinMs: freedAt?.ms ?? null, series };
    log(`  cancel at ${atPercent} %: UI ${cancelledMs} ms; renderer PSS idle ${idle.rendererPssMiB.toFixed(0)} → running ${before.rendererPssMiB.toFixed(0)} → ${after.rendererPssMiB} MiB after 10 s (back within 10 % of the rise after ${freedAt ? `${freedAt.ms} ms` : 'more than 10 s'}); JS ${before.jsMiB.toFixed(0)} → ${after.jsMiB} MiB`);
    return r;
  } finally {
    await page.close();
  }
}

/** The export stage: download the first track as WAV through the UI (streamed from storage) and check its length. */
async function exportFirstTrack(page, input, timeout) {
  const sourceId = await page.getByTestId('track').first().getAttribute('data-source');
  const dir = path.resolve('bench/.cache/export');
  mkdirSync(dir, { recursive: true });
  const to = path.join(dir, `${input.kind}-${input.minutes}min-${sourceId}.wav`);
  const sampler = treeSampler(browserPid(), 300);
  const t0 = Date.now();
  const [download] = await Promise.all([page.waitForEvent('download', { timeout }), page.getByTestId(`download-${sourceId}`).click()]);
  await download.saveAs(to);
  const ms = Date.now() - t0;
  const processMemory = sampler.stop();
  const header = Buffer.alloc(44);
  const fd = openSync(to, 'r');
  readSync(fd, header, 0, 44, 0);
  closeSync(fd);
  const bytes = statSync(to).size;
  const rate = header.readUInt32LE(24);
  const channels = header.readUInt16LE(22);
  const seconds = (bytes - 44) / (2 * channels * rate);
  rmSync(to, { force: true });
  if (Math.abs(seconds - input.seconds) > 1) throw new Error(`exported ${sourceId} lasts ${seconds.toFixed(2)} s, the input ${input.seconds} s`);
  return { sourceId, ms, bytes, rate, channels, seconds, processMemory: { growthPssMiB: processMemory.growthPssMiB, peakPssMiB: processMemory.peakPssMiB, peakLargestProcessPssMiB: processMemory.peakLargestProcessPssMiB } };
}

/**
 * Peak JS memory of the page and every worker (V8 heaps + ArrayBuffer stores, CDP; e2e/support/js-memory.mjs).
 * WebAssembly memories are not in it (CDP counts neither them nor, outside workers, does
 * measureUserAgentSpecificMemory): the renderer's PSS (processMemory.peakLargestProcessPssMiB) bounds JS + wasm together.
 */
async function jsMemoryPoller(page, everyMs = 5000) {
  const { jsMemory } = await attachMemory(page);
  const peak = { jsPeakBytes: 0, jsPeakBreakdown: null, jsSamples: 0 };
  const stop = every(everyMs, async () => {
    const m = await jsMemory().catch(() => null);
    if (m) {
    peak.jsSamples++;
    if (m.total > peak.jsPeakBytes) Object.assign(peak, { jsPeakBytes: m.total, jsPeakBreakdown: m });
    }
  });
  return {
    async stop() {
      await stop();
      return peak;
    },
  };
}

async function pipelineRun(context, url, input, log, thinkMs = 0, threads = 'auto') {
  const page = await context.newPage();
  const cdp = await context.newCDPSession(page);
  await cdp.send('Performance.enable');
  try {
    await page.goto(url);
    await page.getByTestId('file-input').waitFor({ state: 'attached', timeout: 60_000 });
    await setThreads(page, threads);
    const sampler = treeSampler(browserPid(), 300);
    const poller = pageMemoryPoller(page, cdp);
    const js = await jsMemoryPoller(page);
    const p0 = Date.now();
    await page.getByTestId('file-input').setInputFiles(input.file);
    await page.getByTestId('separate').waitFor({ state: 'visible', timeout: 5 * 60_000 });
    const probeMs = Date.now() - p0;
    // A user reads the file's facts before pressing Separate; the app loads the model meanwhile.
    if (thinkMs) await page.waitForTimeout(thinkMs);
    const t0 = Date.now();
    await page.getByTestId('separate').click();
    const eta = etaSampler(page, t0);
    // Long inputs: up to 1.5 s per second of audio (RTF 1.5, far beyond what the app needs even on a loaded machine).
    const timeout = Math.max(40 * 60_000, input.seconds * 1500);
    const outcome = await Promise.race([
      page.getByTestId('results').waitFor({ state: 'visible', timeout }).then(() => 'done'),
      page.getByTestId('error').waitFor({ state: 'visible', timeout }).then(() => 'failed'),
    ]);
    const pipelineMs = Date.now() - t0;
    const memory = { ...(await poller.stop()), ...(await js.stop()) };
    const etaAccuracy = await eta.stop(pipelineMs);
    const processMemory = sampler.stop();
    if (outcome === 'failed') {
      const err = await page.getByTestId('error').textContent();
      return { ok: false, error: err?.slice(0, 500), pipelineMs, processMemory };
    }
    const timings = await stageTimings(page);
    const backend = await page.getByTestId('backend').textContent();
    const exported = await exportFirstTrack(page, input, timeout);
    const r = {
      ok: true,
      kind: input.kind,
      minutes: input.minutes,
      seconds: input.seconds,
      threadsSetting: String(threads),
      bytes: statSync(input.file).size,
      probeMs,
      pipelineMs,
      rtf: pipelineMs / 1000 / input.seconds,
      stagesMs: timings,
      backend,
      memory: { ...memory, measureUserAgentSpecificMemoryNote: 'uaMemoryBytes counts a shared WebAssembly.Memory once per worker holding it (ffmpeg core-mt: 33 × 1 GiB); uaMemoryDedupedBytes counts it once' },
      processMemory,
      export: exported,
      etaAccuracy,
    };
    log(`  export: ${exported.sourceId} WAV ${(exported.bytes / 1e6).toFixed(1)} MB in ${(exported.ms / 1000).toFixed(1)} s, ${exported.seconds.toFixed(1)} s of audio at ${exported.rate} Hz, peak PSS +${exported.processMemory.growthPssMiB} MiB`);
    log(`  ETA: ${etaAccuracy.summary.map((e) => `at ${e.atPercent} % off by ${e.errorPercent} %`).join(', ') || 'no samples'}`);
    log(`  app ${input.kind} ${input.minutes} min (${backend}): ${(pipelineMs / 1000).toFixed(1)} s (RTF ${r.rtf.toFixed(3)}), ${JSON.stringify(timings)}, peak PSS +${processMemory.growthPssMiB} MiB (whole browser ${processMemory.peakPssMiB} MiB, largest process at its peak ${processMemory.peakLargestProcessPssMiB} MiB), JS peak ${(r.memory.jsPeakBytes / 1048576).toFixed(0)} MiB`);
    return r;
  } finally {
    await cdp.detach().catch(() => {});
    await page.close();
  }
}

export async function appBenchmarks({ pipelineInputs, coldInput, log, thinkMs = 0, threadSettings = ['auto'] }) {
  const out = { buildMs: null, coldStart: null, transfer: null, offlineStart: null, pipeline: [], cancel: null, errors: [] };
  log('building the app (vite build, its own config) into bench/.app-dist …');
  out.buildMs = buildApp();
  const preview = await startPreview({ port: APP_PORT, args: ['--outDir', APP_DIST] });
  const proxy = await startCountingProxy(PROXY_PORT, `localhost:${APP_PORT}`);
  let context;
  try {
    context = await launchPersistent([`--proxy-server=http://127.0.0.1:${PROXY_PORT}`, '--proxy-bypass-list=<-loopback>']);
    const page = await context.newPage();
    const url = preview.url + '/';

    // 1. Cold start: first navigation on a fresh profile, straight to a first result (1-min file).
    log('app: cold start (fresh profile) → first result …');
    const t0 = Date.now();
    await page.goto(url, { waitUntil: 'domcontentloaded' });
    await page.getByTestId('file-input').waitFor({ state: 'attached', timeout: 120_000 });
    await page.getByRole('heading', { name: 'VoxSplit' }).waitFor({ timeout: 120_000 });
    const interactiveMs = Date.now() - t0;
    await page.getByTestId('file-input').setInputFiles(coldInput.file);
    await page.getByTestId('separate').waitFor({ state: 'visible', timeout: 5 * 60_000 });
    const factsMs = Date.now() - t0;
    await page.getByTestId('separate').click();
    await page.getByTestId('results').waitFor({ state: 'visible', timeout: 20 * 60_000 });
    const firstResultMs = Date.now() - t0;
    out.coldStart = { input: path.basename(coldInput.file), seconds: coldInput.seconds, interactiveMs, factsMs, firstResultMs, stagesMs: await stageTimings(page), backend: await page.getByTestId('backend').textContent() };
    log(`  interactive ${interactiveMs} ms, facts ${factsMs} ms, first result ${firstResultMs} ms`);

    // 2. First-visit transfer: everything until the service worker has precached all it lists.
    // eslint-disable-next-line no-undef
    await withTimeout(page.evaluate(() => navigator.serviceWorker.ready.then(() => true)), 300_000, 'service worker ready');
    await page.locator('[data-testid=offline-badge][data-ready=true]').waitFor({ timeout: 300_000 });
    const quiet = await proxy.idle(3000, 300_000);
    out.transfer = { ...summariseTransfer(proxy.log), quiet, refusedNonAppRequests: proxy.refused.length, sinceFirstNavigationMs: Date.now() - t0 };
    log(`  first visit: ${(out.transfer.wireBytes / 1e6).toFixed(1)} MB on the wire, ${(out.transfer.uniqueBrotli9Bytes / 1e6).toFixed(1)} MB if brotli-compressed`);

    // 3. Offline start: network off, reload, until the app is interactive.
    await context.setOffline(true);
    const before = proxy.log.length;
    const o0 = Date.now();
    await page.reload({ waitUntil: 'domcontentloaded' });
    await page.getByRole('heading', { name: 'VoxSplit' }).waitFor({ timeout: 60_000 });
    await page.getByTestId('file-input').waitFor({ state: 'attached', timeout: 60_000 });
    const offlineStartMs = Date.now() - o0;
    // eslint-disable-next-line no-undef
    const nav = await page.evaluate(() => {
      const n = performance.getEntriesByType('navigation')[0];
      return { domInteractiveMs: n?.domInteractive, domContentLoadedMs: n?.domContentLoadedEventEnd, loadMs: n?.loadEventEnd, controlled: !!navigator.serviceWorker.controller, online: navigator.onLine };
    });
    out.offlineStart = { offlineStartMs, ...nav, requestsThatReachedTheNetwork: proxy.log.length - before };
    log(`  offline start ${offlineStartMs} ms (controlled by the service worker: ${nav.controlled})`);
    await context.setOffline(false);
    await page.close();

    // 4. The whole pipeline through the UI, default settings, warm (precached) app, one fresh page per file.
    for (const input of pipelineInputs) {
      for (const threads of threadSettings) {
        log(`app: pipeline ${input.kind} ${input.minutes} min, threads ${threads} …`);
        try {
          out.pipeline.push({ ...(await pipelineRun(context, url, input, log, thinkMs, threads)), thinkMs });
        } catch (e) {
          out.pipeline.push({ ok: false, kind: input.kind, minutes: input.minutes, threadsSetting: String(threads), error: String(e.message ?? e) });
          log(`  failed: ${e.message ?? e}`);
        }
      }
    }
    // 5. Cancel on the longest audio input: how fast the memory of a running job is given back.
    const longest = pipelineInputs.filter((i) => i.kind === 'audio').sort((a, b) => b.seconds - a.seconds)[0];
    if (longest && longest.minutes >= 10) {
      log(`app: cancel on ${longest.minutes} min …`);
      try {
        out.cancel = await cancelRun(context, url, longest, log);
      } catch (e) {
        out.errors.push(`cancel: ${e.message ?? e}`);
        log(`  cancel failed: ${e.message ?? e}`);
      }
    }
  } catch (e) {
    out.errors.push(String(e.stack ?? e));
    log(`app benchmark failed: ${e.message ?? e}`);
  } finally {
    await context?.close();
    proxy.closeAll();
    await proxy.stop();
    preview.stop();
  }
  return out;
}

/**
 * In-browser micro-benchmarks on the bench page (bench/web, the app's own
 * modules): SHA-256, chunking overhead, ffmpeg.wasm decode, ORT-web separation.
 */
import { browserPid, launch, withTimeout } from './browser.mjs';
import { treeSampler } from './proc.mjs';

export async function openBenchPage(browser, url, log) {
  const page = await browser.newPage();
  page.on('console', (m) => {
    const t = m.text();
    if (/\[separate worker\]|error|warn/i.test(t) && !/favicon|404/.test(t)) log(`  [page] ${t.slice(0, 300)}`);
  });
  page.on('pageerror', (e) => log(`  [page error] ${e.message}`));
  await page.goto(`${url}/bench/web/index.html`);
  await page.waitForSelector('body[data-ready=true]', { timeout: 60_000 });
  return page;
}

async function setFiles(page, a, b) {
  await page.getByTestId('input-a').setInputFiles(a ?? []);
  await page.getByTestId('input-b').setInputFiles(b ?? []);
}

/** One case in the page, with the browser's process tree sampled from outside. */
async function measured(page, fn, arg, timeoutMs, what) {
  const sampler = treeSampler(browserPid(), 300);
  try {
    const r = await withTimeout(page.evaluate(fn, arg), timeoutMs, what);
    return { ...r, process: sampler.stop() };
  } catch (e) {
    sampler.stop();
    return { ok: false, error: String(e.message ?? e) };
  }
}

export async function separateWeb(page, { pcm, ref, backend, threads, maxSeconds, timeoutMs = 20 * 60_000 }) {
  await setFiles(page, pcm, ref);
  // eslint-disable-next-line no-undef
  return measured(page, (o) => window.voxBench.separate(o), { backend, threads, maxSeconds, memIntervalMs: 2000 }, timeoutMs, `separate ${backend}/${threads ?? 'max'}`);
}

export async function decodeWeb(page, { file, timeoutMs = 20 * 60_000 }) {
  await setFiles(page, file, null);
  // eslint-disable-next-line no-undef
  return measured(page, () => window.voxBench.decode({ memIntervalMs: 2000 }), undefined, timeoutMs, `decode ${file}`);
}

export async function pageInfo(page) {
  // eslint-disable-next-line no-undef
  return page.evaluate(() => window.voxBench.environment());
}

export async function sha256Web(page) {
  // eslint-disable-next-line no-undef
  return withTimeout(page.evaluate(() => window.voxBench.sha256(7)), 120_000, 'sha256');
}

export async function chunkingWeb(page, seconds = 60) {
  // eslint-disable-next-line no-undef
  return withTimeout(page.evaluate((s) => window.voxBench.chunkingOverhead(s), seconds), 120_000, 'chunking overhead');
}

/** WebGPU gets its own browser (--enable-unsafe-webgpu), on SwiftShader here: a correctness check, not a speed figure. */
export async function webgpuCase(url, { pcm, ref, maxSeconds, log }) {
  const browser = await launch(['--enable-unsafe-webgpu']);
  try {
    const page = await openBenchPage(browser, url, log);
    // eslint-disable-next-line no-undef
    const adapter = await page.evaluate(() => window.voxBench.adapterInfo());
    const result = await separateWeb(page, { pcm, ref, backend: 'webgpu', maxSeconds, timeoutMs: 15 * 60_000 });
    return { adapter, ...result };
  } finally {
    await browser.close();
  }
}

/** ffmpeg.wasm decode broken down (bench/web/ffmpeg-profile.ts): read+demux, decode, output, and MEMFS instead of WORKERFS. */
export async function ffmpegProfileWeb(page, { file, core = 'mt', timeoutMs = 15 * 60_000 }) {
  await setFiles(page, file, null);
  // eslint-disable-next-line no-undef
  return measured(page, (c) => window.voxBench.ffmpegProfile(c), core, timeoutMs, `ffmpeg profile ${file}`);
}

/** onnxruntime-web's bare session.run on 8 s windows, single-threaded, on a fresh page (ORT initialises once per page). */
export async function rawOrtWeb(browser, url, { pcm, windows = 8, log, sessionConfig }) {
  const page = await openBenchPage(browser, url, log);
  try {
    await setFiles(page, pcm, null);
    // eslint-disable-next-line no-undef
    return await withTimeout(page.evaluate(([n, c]) => window.voxBench.rawOrt(n, c), [windows, sessionConfig]), 10 * 60_000, 'raw ORT-web');
  } finally {
    await page.close();
  }
}

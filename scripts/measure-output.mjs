#!/usr/bin/env node
/**
 * The output side of long media, measured through the app's UI: memory after
 * separating an input (page JS heap, page + workers, the browser's whole
 * process tree), how long each download takes, how closely the tracks play
 * together, what OPFS holds. "JS memory" is V8 heap plus ArrayBuffer backing
 * stores, for the page and for each of its workers. Run it against a built app served with its
 * headers (vite preview), once per variant, and compare:
 *
 *   node scripts/measure-output.mjs --url http://localhost:5183/ --label opfs --minutes 10
 *   node scripts/measure-output.mjs --url 'http://localhost:5183/?sink=memory' --label memory --minutes 10
 *   node scripts/measure-output.mjs --url http://localhost:5183/ --storage-bench --minutes 60   (storage worker alone)
 *
 * The input (two espeak voices from the e2e fixtures, repeated to length,
 * 44.1 kHz stereo WAV) is generated into test-results/measure/ once.
 * Results: one JSON line per run in test-results/measure/results.jsonl.
 */
import { chromium } from '@playwright/test';
import { execFileSync } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { attachMemory } from '../e2e/support/js-memory.mjs';

const arg = (name, fallback) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : fallback;
};
const URL_ = arg('url', 'http://localhost:5183/');
const LABEL = arg('label', 'run');
const MINUTES = Number(arg('minutes', '10'));
const STORAGE_BENCH = process.argv.includes('--storage-bench');
const OUT = path.resolve('test-results/measure');
mkdirSync(OUT, { recursive: true });

function makeInput(minutes) {
  const file = path.join(OUT, `voices-${minutes}min-44k.wav`);
  if (existsSync(file)) return file;
  const src = path.resolve('e2e/.fixtures/two-voices.wav');
  if (!existsSync(src)) throw new Error('Run the e2e suite once first (it generates e2e/.fixtures/two-voices.wav).');
  const copies = Math.ceil((minutes * 60) / 8);
  execFileSync('sox', [...Array(copies).fill(src), '-r', '44100', '-c', '2', file, 'trim', '0', String(minutes * 60)]);
  return file;
}

// ---- process-tree memory (PSS: shared pages split between sharers, so the sum is honest) ----
function children() {
  const kids = new Map();
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (!kids.has(ppid)) kids.set(ppid, []);
      kids.get(ppid).push(Number(d));
    } catch {
      /* gone */
    }
  }
  return kids;
}
function treePssBytes(root) {
  const kids = children();
  const stack = [...(kids.get(root) ?? [])];
  let pss = 0;
  while (stack.length) {
    const p = stack.pop();
    try {
      pss += Number(/^Pss:\s+(\d+) kB/m.exec(readFileSync(`/proc/${p}/smaps_rollup`, 'utf8'))?.[1] ?? 0) * 1024;
    } catch {
      /* gone */
    }
    stack.push(...(kids.get(p) ?? []));
  }
  return pss;
}

const MiB = (b) => (b == null ? null : Math.round((b / 2 ** 20) * 10) / 10);

/**
 * --storage-bench: the storage worker alone, in the built app's origin (its own
 * worker file, spoken to in comlink's wire format), on synthetic tracks: write
 * `minutes` of 3 tracks in 10 s blocks as separation would, close, then each
 * export. Separation is not running, so these are the output side's own costs.
 */
async function storageBench(page, workerUrl, minutes) {
  return page.evaluate(
    async ({ url, minutes }) => {
      const w = new Worker(url, { type: 'module', name: 'storage-bench' });
      let n = 0;
      const pending = new Map();
      w.onmessage = (e) => {
        const r = pending.get(e.data.id);
        pending.delete(e.data.id);
        r?.(e.data);
      };
      const call = (name, args, transfer = []) =>
        new Promise((resolve, reject) => {
          const id = String(++n);
          pending.set(id, (d) => (d.type === 'HANDLER' ? reject(new Error(JSON.stringify(d.value))) : resolve(d.value)));
          w.postMessage({ id, type: 'APPLY', path: [name], argumentList: args.map((value) => ({ type: 'RAW', value })) }, transfer);
        });
      if (!(await call('available', []))) return { error: 'no OPFS' };
      const job = `bench-${Date.now()}`;
      const out = {};
      await navigator.locks.request(`voxsplit-job:${job}`, async () => {
        const frames = minutes * 60 * 16000;
        const block = 160000;
        await call('open', [job, 3, 16000, frames * 2 * 3]);
        let writeMs = 0;
        for (let start = 0; start < frames; start += block) {
          const len = Math.min(block, frames - start);
          const pcm = [0, 1, 2].map((k) => {
            const x = new Int16Array(len);
            for (let i = 0; i < len; i++) x[i] = Math.round(8000 * Math.sin((start + i) * (0.01 + k * 0.003)));
            return new Uint8Array(x.buffer);
          });
          const t = performance.now();
          await call('write', [job, start, pcm], pcm.map((p) => p.buffer));
          writeMs += performance.now() - t;
        }
        let t = performance.now();
        const files = await call('close', [job, frames]);
        out.closeMs = performance.now() - t;
        out.writeMs = writeMs;
        const time = async (name, args) => {
          const t0 = performance.now();
          const blob = await call(name, args);
          return { ms: performance.now() - t0, MiB: blob.size / 2 ** 20 };
        };
        out.wav44k = await time('exportWav', [job, 'w44.wav', files[0], 44100]);
        out.wav48k = await time('exportWav', [job, 'w48.wav', files[0], 48000]);
        const entries = files.map((f, i) => ({ name: `${i}.wav`, src: f }));
        out.zip16k = await time('exportZip', [job, 'z16.zip', entries, 16000]);
        out.zip44k = await time('exportZip', [job, 'z44.zip', entries, 44100]);
        t = performance.now();
        await call('remove', [job]);
        out.removeMs = performance.now() - t;
      });
      w.terminate();
      const perMin = (ms) => Math.round(ms / minutes);
      return {
        minutes,
        msPerMinuteOfAudio: {
          'write 3 tracks (16-bit, 16 kHz)': perMin(out.writeMs),
          'one track → 44.1 kHz WAV': perMin(out.wav44k.ms),
          'one track → 48 kHz WAV': perMin(out.wav48k.ms),
          'zip of 3 tracks at 16 kHz': perMin(out.zip16k.ms),
          'zip of 3 tracks at 44.1 kHz': perMin(out.zip44k.ms),
        },
        closeMs: Math.round(out.closeMs),
        removeMs: Math.round(out.removeMs),
        zip44kMiB: Math.round(out.zip44k.MiB),
      };
    },
    { url: workerUrl, minutes },
  );
}

/**
 * A browser with a profile on disk: in a throwaway (incognito-like) context
 * Chromium keeps OPFS in memory with a small quota, which is neither what
 * users get nor a fair memory measurement.
 */
async function launch() {
  const dir = mkdtempSync(path.join(tmpdir(), 'voxsplit-measure-'));
  const context = await chromium.launchPersistentContext(dir, {
    executablePath: '/usr/bin/chromium',
    acceptDownloads: true,
    args: ['--no-sandbox', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  const close = context.close.bind(context);
  context.close = async () => {
    await close();
    rmSync(dir, { recursive: true, force: true });
  };
  return context;
}

async function main() {
  if (STORAGE_BENCH) {
    const browser = await launch();
    const page = browser.pages()[0] ?? (await browser.newPage());
    const { cdp, jsMemory } = await attachMemory(page);
    const urls = [];
    cdp.on('Target.attachedToTarget', (e) => e.targetInfo.title === 'voxsplit-storage' && urls.push(e.targetInfo.url));
    await page.goto(URL_);
    for (let i = 0; i < 100 && !urls.length; i++) await new Promise((r) => setTimeout(r, 100));
    if (!urls.length) throw new Error('The storage worker did not start');
    const peak = {};
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        for (const [k, v] of Object.entries(await jsMemory().catch(() => ({})))) peak[k] = Math.max(peak[k] ?? 0, v);
        await new Promise((r) => setTimeout(r, 500));
      }
    })();
    const bench = await storageBench(page, urls[0], MINUTES);
    sampling = false;
    await sampler;
    const r = { label: LABEL, kind: 'storage-bench', at: new Date().toISOString(), loadAverage: readFileSync('/proc/loadavg', 'utf8').trim(), ...bench, peakJsMiB: Object.fromEntries(Object.entries(peak).map(([k, v]) => [k, MiB(v)])) };
    await browser.close();
    appendFileSync(path.join(OUT, 'results.jsonl'), `${JSON.stringify(r)}\n`);
    console.log(JSON.stringify(r, null, 1));
    return;
  }
  const input = makeInput(MINUTES);
  const context = await launch();
  const browser = context;
  const page = context.pages()[0] ?? (await context.newPage());
  const logs = [];
  page.on('console', (m) => {
    if (/OPFS sink|Playback|storage/i.test(m.text())) logs.push(m.text());
  });
  const { cdp, jsMemory, gc } = await attachMemory(page);
  const baselinePss = treePssBytes(process.pid);

  const peaks = { js: {}, pss: 0 };
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      const js = await jsMemory().catch(() => ({}));
      for (const [k, v] of Object.entries(js)) peaks.js[k] = Math.max(peaks.js[k] ?? 0, v);
      peaks.pss = Math.max(peaks.pss, treePssBytes(process.pid));
      await new Promise((r) => setTimeout(r, 1500));
    }
  })();
  const snapshot = async () => {
    await gc();
    await new Promise((r) => setTimeout(r, 500));
    const js = await jsMemory();
    return { pageMiB: MiB(js.page), workersMiB: Object.fromEntries(Object.entries(js).filter(([k]) => k !== 'page' && k !== 'total').map(([k, v]) => [k, MiB(v)])), pageAndWorkersMiB: MiB(js.total), browserPssMiB: MiB(treePssBytes(process.pid)) };
  };
  /** Bytes under OPFS jobs/ (the estimate() figure also counts the service worker's cache). */
  const opfs = () =>
    page.evaluate(async () => {
      const size = async (d) => {
        let n = 0;
        for await (const [, h] of d.entries()) n += h.kind === 'directory' ? await size(h) : (await h.getFile()).size;
        return n;
      };
      try {
        return await size(await (await navigator.storage.getDirectory()).getDirectoryHandle('jobs'));
      } catch {
        return 0;
      }
    });

  const result = { label: LABEL, url: URL_, minutes: MINUTES, input: path.basename(input), inputBytes: statSync(input).size, at: new Date().toISOString() };
  await page.goto(URL_);
  result.start = await snapshot();
  await page.getByTestId('file-input').setInputFiles(input);
  await page.getByTestId('file-facts').waitFor({ timeout: 120_000 });
  const settings = async (rate) => {
    if (!(await page.getByTestId('rate-setting').isVisible())) await page.getByText('Settings').click();
    await page.getByTestId('rate-setting').selectOption(rate);
  };
  await settings('model');

  let t = Date.now();
  await page.getByTestId('separate').click();
  await page.getByTestId('results').waitFor({ timeout: 60 * 60_000 });
  result.pipelineS = (Date.now() - t) / 1000;
  result.stages = await page.getByTestId('timings').innerText().catch(() => null);
  result.peaksDuringJob = { jsMiB: Object.fromEntries(Object.entries(peaks.js).map(([k, v]) => [k, MiB(v)])), browserPssGrowthMiB: MiB(peaks.pss - baselinePss) };
  result.afterJob = await snapshot();
  result.opfsJobsMiB = MiB(await opfs());
  result.storage = await page.getByTestId('results').getAttribute('data-storage');

  // Playback: 20 s of the mix, a seek to the middle by clicking the waveform, 8 s more.
  // The app reports the largest gap between two tracks at each 250 ms sync check.
  const spreads = [];
  const t0 = Date.now();
  const watchSpread = async (ms, phase) => {
    const end = Date.now() + ms;
    while (Date.now() < end) {
      const v = await page.locator('.mix-bar').getAttribute('data-sync-spread-ms');
      if (v !== null) spreads.push({ t: (Date.now() - t0) / 1000, phase, ms: Number(v) });
      await new Promise((r) => setTimeout(r, 250));
    }
  };
  const clock = () => page.locator('.mix-bar .muted').innerText();
  await page.getByTestId('mix-play').click();
  await watchSpread(20_000, 'play');
  const seekAt = (Date.now() - t0) / 1000;
  const box = await page.getByTestId('waveform').first().boundingBox().catch(() => null);
  if (box) await page.mouse.click(box.x + box.width / 2, box.y + box.height / 2);
  await watchSpread(8_000, 'after seek');
  const stats = (xs) => {
    const v = xs.map((x) => x.ms).sort((a, b) => a - b);
    return v.length ? { n: v.length, median: v[Math.floor(v.length / 2)], p95: v[Math.floor(v.length * 0.95)], max: v.at(-1) } : null;
  };
  result.playback = {
    clockAt28s: (await clock()).split(' ·')[0],
    syncSpreadMs: spreads.length
      ? {
          firstTwoSeconds: stats(spreads.filter((x) => x.t < 2)),
          steady: stats(spreads.filter((x) => (x.t >= 2 && x.t < seekAt) || x.t >= seekAt + 2)),
          twoSecondsAfterSeek: stats(spreads.filter((x) => x.t >= seekAt && x.t < seekAt + 2)),
        }
      : 'not reported (older build)',
  };
  await page.getByTestId('mix-play').click();
  result.afterPlay = await snapshot();

  // Downloads: the time until the browser has the file, then until it is saved.
  const ids = await page.getByTestId('track').evaluateAll((els) => els.map((e) => e.getAttribute('data-source')));
  const download = async (testid) => {
    const t0 = Date.now();
    const [d] = await Promise.all([page.waitForEvent('download', { timeout: 30 * 60_000 }), page.getByTestId(testid).click()]);
    const handed = (Date.now() - t0) / 1000;
    const file = await d.path();
    return { handedOverS: handed, savedS: (Date.now() - t0) / 1000, MiB: MiB(statSync(file).size) };
  };
  result.downloads = {};
  result.downloads.track16k = await download(`download-${ids[0]}`);
  result.downloads.zip16k = await download('download-all');
  await settings('original');
  result.downloads.track44k = await download(`download-${ids[1]}`);
  result.downloads.zip44k = await download('download-all');
  result.afterDownloads = await snapshot();
  result.opfsJobsAfterDownloadsMiB = MiB(await opfs());
  // Cancel mid-separation: how fast is memory given back (no forced GC here)?
  await page.getByTestId('file-input').setInputFiles(input);
  await page.getByTestId('file-facts').waitFor({ timeout: 120_000 });
  await page.getByTestId('separate').click();
  const sepRow = page.locator('[data-stage="separate"] progress');
  for (let i = 0; i < 3600 && !(Number(await sepRow.getAttribute('value').catch(() => 0)) > 0.3); i++) await new Promise((r) => setTimeout(r, 500));
  const before = { js: await jsMemory(), pss: treePssBytes(process.pid), opfs: await opfs() };
  const tc = Date.now();
  await page.keyboard.press('Escape');
  await page.getByTestId('cancelled').waitFor({ timeout: 10_000 });
  const uiS = (Date.now() - tc) / 1000;
  const after = async (s) => {
    await new Promise((r) => setTimeout(r, Math.max(0, tc + s * 1000 - Date.now())));
    return { afterS: s, pageAndWorkersMiB: MiB((await jsMemory()).total), browserPssMiB: MiB(treePssBytes(process.pid)), opfsJobsMiB: MiB(await opfs()) };
  };
  result.cancel = {
    at: 'separate > 30 %',
    uiCancelledS: uiS,
    before: { pageAndWorkersMiB: MiB(before.js.total), browserPssMiB: MiB(before.pss), opfsJobsMiB: MiB(before.opfs) },
    after: [await after(1), await after(3), await after(10)],
  };

  result.peaksOverall = { jsMiB: Object.fromEntries(Object.entries(peaks.js).map(([k, v]) => [k, MiB(v)])), browserPssGrowthMiB: MiB(peaks.pss - baselinePss) };
  result.logs = logs;
  sampling = false;
  await sampler;
  await browser.close();
  appendFileSync(path.join(OUT, 'results.jsonl'), `${JSON.stringify(result)}\n`);
  console.log(JSON.stringify(result, null, 1));
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});

/**
 * The same clip separated on WebAssembly (Chromium with --disable-gpu) and on
 * WebGPU (forced in Settings; headless Chromium exposes SwiftShader, a software
 * adapter that runs the real WebGPU path) must agree.
 *
 * Tolerance: both backends run the same fp32 graph (int8 weights are
 * dequantised to fp32 first), so they differ only by float summation order
 * (~1e-6 relative per op, compounding over the network's depth) and the WAVs'
 * 16-bit quantisation (±1.5e-5). We require ≥ 40 dB agreement per track —
 * 1 % amplitude error, far below what anyone hears, yet a wrong kernel, a
 * swapped speaker order or a mis-stitched chunk costs far more than that.
 * The error is measured against the input's level, so a near-silent
 * background track is not judged on its noise floor.
 */
import type { Browser, Page } from '@playwright/test';
import { chromiumArgs } from './support/browser';
import { downloadTrack, expect, expectFacts, openFile, sourceIds, test } from './support/test';
import { fixture } from './support/media-fixtures';
import { agreementDb, maxAbsDiff, readWav16 } from './support/wav';


const MIN_AGREEMENT_DB = 40;

async function separateWith(browser: Browser, backend: 'wasm' | 'webgpu', dir: string): Promise<{ page: Page; tracks: Map<string, Float32Array>; label: string; threads: string; errors: string[] }> {
  const context = await browser.newContext({ baseURL: test.info().project.use.baseURL, acceptDownloads: true });
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto('/');
  // Let the service worker take control first, so the engine it did not precache is cached on first use.
  await expect(page.getByTestId('offline-badge')).toHaveAttribute('data-ready', 'true', { timeout: 3 * 60_000 });
  await page.getByText('Settings').click();
  await page.getByTestId('backend-setting').selectOption(backend);
  await page.getByTestId('rate-setting').selectOption('model');
  // The most threads this machine offers (2 on the 2-core CI machine, where automatic would pick 1).
  const counts = await page.getByTestId('threads-setting').locator('option').evaluateAll((os) => os.map((o) => (o as HTMLOptionElement).value).filter((v) => v !== 'auto'));
  const threads = counts[counts.length - 1];
  if (counts.length > 1) await page.getByTestId('threads-setting').selectOption(threads);
  await openFile(page, fixture('short.wav'));
  await expectFacts(page);
  await page.getByTestId('separate').click();
  await expect(page.getByTestId('results')).toBeVisible({ timeout: 7 * 60_000 });
  const label = (await page.getByTestId('backend').textContent()) ?? '';
  const tracks = new Map<string, Float32Array>();
  for (const id of await sourceIds(page)) tracks.set(id, readWav16(await downloadTrack(page, id, `${dir}/${backend}`)).samples);
  return { page, tracks, label, threads, errors };
}

test('WASM and WebGPU give the same tracks within 40 dB, and the app says which ran', async ({ playwright }, info) => {
  test.setTimeout(12 * 60_000);
  const executablePath = '/usr/bin/chromium';
  const cpu = await playwright.chromium.launch({ executablePath, args: chromiumArgs(['--disable-gpu']) });
  const gpu = await playwright.chromium.launch({ executablePath, args: chromiumArgs(['--enable-unsafe-webgpu']) });
  try {
    const wasm = await separateWith(cpu, 'wasm', info.outputDir);
    expect(wasm.label).toContain(`WebAssembly, ${wasm.threads} thread`);
    const webgpu = await separateWith(gpu, 'webgpu', info.outputDir);
    expect(webgpu.label).toContain('WebGPU');
    // ORT's WebGPU build is not precached: the service worker kept it when the run fetched it.
    const engines = await webgpu.page.evaluate(async () => (await (await caches.open('voxsplit-engines')).keys()).map((r) => r.url));
    expect(engines.some((u) => /\.jsep-[^/]*\.wasm$/.test(u)), `engine cache: ${engines.join(', ')}`).toBe(true);
    expect([...webgpu.tracks.keys()]).toEqual([...wasm.tracks.keys()]);
    const input = readWav16(fixture('short.wav')).samples;
    const report: Record<string, { agreementDb: number; maxAbsDiff: number }> = {};
    for (const [id, a] of wasm.tracks) {
      const b = webgpu.tracks.get(id)!;
      expect(b.length).toBe(a.length);
      report[id] = { agreementDb: agreementDb(a, b, input), maxAbsDiff: maxAbsDiff(a, b) };
    }
    await info.attach('backend-agreement.json', { body: JSON.stringify(report, null, 1), contentType: 'application/json' });
    console.log('WASM vs WebGPU agreement', report);
    for (const [id, r] of Object.entries(report)) expect(r.agreementDb, id).toBeGreaterThanOrEqual(MIN_AGREEMENT_DB);
    expect([...wasm.errors, ...webgpu.errors]).toEqual([]);
  } finally {
    await cpu.close();
    await gpu.close();
  }
});
